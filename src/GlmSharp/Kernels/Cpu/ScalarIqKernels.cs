using System.Runtime.CompilerServices;
using GlmSharp.Tensors;

namespace GlmSharp.Kernels.Cpu;

/// <summary>
/// Plain-loop row dots of the lattice types (IQ2_XXS, IQ2_XS, IQ2_S, IQ1_S, IQ1_M) against Q8_K activations,
/// ggml's vec_dot_type for all of them, through the codecs' integer form <see cref="IIqBlock.Expand"/>: the
/// definition <see cref="IqKernels"/> is tested against.
/// </summary>
internal static unsafe class ScalarIqKernels
{
    public static float Dot(GgmlType type, byte* w, sbyte* a, float* da, int superBlocks) => type switch
    {
        GgmlType.IQ2_XXS => Dot<Iq2Xxs>(w, a, da, superBlocks),
        GgmlType.IQ2_XS => Dot<Iq2Xs>(w, a, da, superBlocks),
        GgmlType.IQ2_S => Dot<Iq2S>(w, a, da, superBlocks),
        GgmlType.IQ1_S => Dot<Iq1S>(w, a, da, superBlocks),
        _ => Dot<Iq1M>(w, a, da, superBlocks),
    };

    /// <summary>⅛ · Σ over super-blocks of d·d_a·Σ_g scale_g·Σ v·a: ggml's integer sums, its ⅛ taken once at the end.</summary>
    [MethodImpl(KernelRoot.Options)]
    private static float Dot<TBlock>(byte* w, sbyte* a, float* da, int superBlocks) where TBlock : IIqBlock
    {
        Span<sbyte> values = stackalloc sbyte[IqCodec.BlockSize];
        Span<short> scales = stackalloc short[IqCodec.BlockSize / IqCodec.Group];
        float total = 0;
        for (int b = 0; b < superBlocks; b++, w += TBlock.Bytes, a += IqCodec.BlockSize)
        {
            var block = new ReadOnlySpan<byte>(w, TBlock.Bytes);
            TBlock.Expand(block, values, scales);
            int dot = 0;
            for (int g = 0; g < scales.Length; g++)
            {
                int sub = 0;
                for (int l = 0; l < IqCodec.Group; l++) sub += values[IqCodec.Group * g + l] * a[IqCodec.Group * g + l];
                dot += scales[g] * sub;
            }
            total += HalfFloat.ToSingle(TBlock.ScaleBits(block)) * da[b] * dot;
        }
        return 0.125f * total;
    }
}
