using System.Runtime.CompilerServices;
using GlmSharp.Tensors;

namespace GlmSharp.Kernels.Cpu;

/// <summary>
/// Plain-loop Q3_K and Q2_K row dots against Q8_K activations (ggml's vec_dot_type for both), element by element
/// through the codecs' layout: the definition <see cref="LowBitKQuantKernels"/> is tested against.
/// </summary>
internal static unsafe class ScalarLowBitKQuantKernels
{
    private const int SuperBlock = ScalarKQuantKernels.SuperBlock, Group = ScalarKQuantKernels.Group;

    /// <summary>Σ over super-blocks of d·d_a·Σ_g scale_g·Σ (q − 4)·a for one Q3_K row.</summary>
    [MethodImpl(KernelRoot.Options)]
    public static float DotQ3_K(byte* w, sbyte* a, float* da, int superBlocks)
    {
        float total = 0;
        for (int b = 0; b < superBlocks; b++, w += Q3_K.BytesPerBlock, a += SuperBlock)
        {
            var block = new ReadOnlySpan<byte>(w, Q3_K.BytesPerBlock);
            var packed = block.Slice(Q3_K.ScalesOffset, 12);
            int dot = 0;
            for (int g = 0; g < SuperBlock / Group; g++)
            {
                int sub = 0;
                for (int l = 0; l < Group; l++) sub += (Q3_K.Code(block, Group * g + l) - 4) * a[Group * g + l];
                dot += Q3_K.Scale(packed, g) * sub;
            }
            total += HalfFloat.ToSingle(*(ushort*)(w + Q3_K.ScaleOffset)) * da[b] * dot;
        }
        return total;
    }

    /// <summary>Σ over super-blocks of d_a·(d·Σ_g scale_g·Σ q·a − dmin·Σ_g min_g·Σa) for one Q2_K row.</summary>
    [MethodImpl(KernelRoot.Options)]
    public static float DotQ2_K(byte* w, sbyte* a, float* da, short* sums, int superBlocks)
    {
        float total = 0;
        for (int b = 0; b < superBlocks; b++, w += Q2_K.BytesPerBlock, a += SuperBlock, sums += SuperBlock / Group)
        {
            var block = new ReadOnlySpan<byte>(w, Q2_K.BytesPerBlock);
            int dot = 0, minDot = 0;
            for (int g = 0; g < SuperBlock / Group; g++)
            {
                int sub = 0;
                for (int l = 0; l < Group; l++) sub += Q2_K.Code(block, Group * g + l) * a[Group * g + l];
                dot += (block[g] & 0x0f) * sub;
                minDot += (block[g] >> 4) * sums[g];
            }
            total += HalfFloat.ToSingle(*(ushort*)(w + Q2_K.ScaleOffset)) * da[b] * dot - HalfFloat.ToSingle(*(ushort*)(w + Q2_K.MinOffset)) * da[b] * minDot;
        }
        return total;
    }
}
