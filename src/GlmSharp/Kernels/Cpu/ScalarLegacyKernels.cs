using System.Runtime.CompilerServices;
using GlmSharp.Tensors;

namespace GlmSharp.Kernels.Cpu;

/// <summary>
/// The reference for Q4_1, Q5_0, Q5_1, IQ4_NL and MXFP4 weights against 8-bit activation blocks, written as llama.cpp's
/// vec_dot functions define it: per block d_w·d_a·Σc·a over integer codes c (Q5_0's q − 16, IQ4_NL's grid values,
/// MXFP4's E2M1 values doubled with d_w the E8M0 scale halved), plus m·s for the types with a minimum m, s being the
/// activation block's stored sum d_a·Σa.
/// </summary>
internal static unsafe class ScalarLegacyKernels
{
    private const int Block = ScalarKernels.QuantBlock;

    [MethodImpl(KernelRoot.Options)]
    public static float Dot(GgmlType type, byte* w, sbyte* q, float* scales, float* sums, int blocks)
    {
        Span<int> codes = stackalloc int[Block];
        int blockBytes = GgmlTypeInfo.BytesPerBlock(type);
        float sum = 0;
        for (int b = 0; b < blocks; b++)
        {
            float minimum = Codes(type, w + b * blockBytes, codes, out float d);
            sbyte* a = q + b * Block;
            int dot = 0;
            for (int j = 0; j < Block; j++) dot += codes[j] * a[j];
            sum += d * scales[b] * dot + minimum * sums[b];
        }
        return sum;
    }

    /// <summary>The integer codes c of one block and its scale d, so that w = d·c + the returned minimum.</summary>
    public static float Codes(GgmlType type, byte* block, Span<int> codes, out float d)
    {
        if (type == GgmlType.MXFP4)
        {
            d = Fp4.E8M0Half(*block);
            Nibbles(block + 1, codes);
            for (int j = 0; j < Block; j++) codes[j] = Fp4.DoubledValues[codes[j]];
            return 0f;
        }
        d = HalfFloat.ToSingle(*(ushort*)block);
        switch (type)
        {
            case GgmlType.Q4_1:
                Nibbles(block + 4, codes);
                return HalfFloat.ToSingle(*(ushort*)(block + 2));
            case GgmlType.Q5_1:
                FiveBitCodes.Read(new ReadOnlySpan<byte>(block + 4, FiveBitCodes.Bytes), codes);
                return HalfFloat.ToSingle(*(ushort*)(block + 2));
            case GgmlType.Q5_0:
                FiveBitCodes.Read(new ReadOnlySpan<byte>(block + 2, FiveBitCodes.Bytes), codes);
                for (int j = 0; j < Block; j++) codes[j] -= 16;
                return 0f;
            case GgmlType.IQ4_NL:
                Nibbles(block + 2, codes);
                for (int j = 0; j < Block; j++) codes[j] = Iq4Nl.Values[codes[j]];
                return 0f;
            default:
                throw new ArgumentException($"{type} is not a Q4_1, Q5_0, Q5_1, IQ4_NL or MXFP4 type", nameof(type));
        }
    }

    private static void Nibbles(byte* packed, Span<int> codes)
    {
        for (int j = 0; j < Block / 2; j++)
        {
            codes[j] = packed[j] & 0x0f;
            codes[Block / 2 + j] = packed[j] >> 4;
        }
    }
}
