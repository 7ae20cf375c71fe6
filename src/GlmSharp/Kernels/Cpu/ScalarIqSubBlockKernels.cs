using GlmSharp.Tensors;

namespace GlmSharp.Kernels.Cpu;

/// <summary>
/// Plain-loop IQ4_XS, IQ3_XXS and IQ3_S row dots against Q8_K activations, element by element through the codecs:
/// per block d·d_a·Σ_s scale_s·Σ code·a (IQ3_XXS times 1/4), as ggml_vec_dot_iq*_q8_K. The definition
/// <see cref="IqSubBlockKernels"/> is tested against.
/// </summary>
internal static unsafe class ScalarIqSubBlockKernels
{
    private const int SuperBlock = 256, SubBlock = 32;

    public static float Dot(GgmlType type, byte* w, sbyte* a, float* da, int superBlocks)
    {
        int bytes = GgmlTypeInfo.BytesPerBlock(type);
        float total = 0;
        for (int b = 0; b < superBlocks; b++, w += bytes, a += SuperBlock)
        {
            var block = new ReadOnlySpan<byte>(w, bytes);
            int dot = 0;
            for (int s = 0; s < SuperBlock / SubBlock; s++)
            {
                int sub = 0;
                for (int j = 0; j < SubBlock; j++) sub += Code(type, block, SubBlock * s + j) * a[SubBlock * s + j];
                dot += Scale(type, block, s) * sub;
            }
            total += HalfFloat.ToSingle(*(ushort*)w) * da[b] * dot;
        }
        return type == GgmlType.IQ3_XXS ? 0.25f * total : total;
    }

    private static int Code(GgmlType type, ReadOnlySpan<byte> block, int e) => type switch
    {
        GgmlType.IQ4_XS => Iq4Xs.Code(block, e),
        GgmlType.IQ3_XXS => Iq3Xxs.Code(block, e),
        _ => Iq3S.Code(block, e),
    };

    private static int Scale(GgmlType type, ReadOnlySpan<byte> block, int s) => type switch
    {
        GgmlType.IQ4_XS => Iq4Xs.Scale(block, s),
        GgmlType.IQ3_XXS => Iq3Xxs.Scale(block, s),
        _ => Iq3S.Scale(block, s),
    };
}
