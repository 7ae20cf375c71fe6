using System.Runtime.CompilerServices;
using GlmSharp.Tensors;

namespace GlmSharp.Kernels.Cpu;

/// <summary>
/// Plain-loop K-quant kernels: the definition the SIMD paths are tested against. As in llama.cpp (ggml's
/// vec_dot_type of Q4_K, Q5_K and Q6_K is Q8_K), activations are quantized to 256-value Q8_K blocks, so both engines
/// multiply the same integers and differ only in float summation order.
/// </summary>
internal static unsafe class ScalarKQuantKernels
{
    public const int SuperBlock = 256;
    public const int Group = 16;
    public const int Q4_KBytes = 144, Q5_KBytes = 176, Q6_KBytes = 210;

    /// <summary>
    /// quantize_row_q8_K_ref: per 256 values iscale = −127/m with m the signed value of largest magnitude,
    /// q = min(127, nearest_int(iscale·x)), d = 1/iscale, and the sum of each 16 codes.
    /// </summary>
    [MethodImpl(KernelRoot.Options)]
    public static void QuantizeActivations(float* x, int n, sbyte* q, float* d, short* sums)
    {
        for (int b = 0; b < n / SuperBlock; b++)
        {
            float* block = x + b * SuperBlock;
            sbyte* codes = q + b * SuperBlock;
            float max = 0, amax = 0;
            for (int j = 0; j < SuperBlock; j++)
            {
                float ax = MathF.Abs(block[j]);
                if (ax > amax)
                {
                    amax = ax;
                    max = block[j];
                }
            }
            if (amax == 0)
            {
                d[b] = 0;
                new Span<sbyte>(codes, SuperBlock).Clear();
                new Span<short>(sums + b * (SuperBlock / Group), SuperBlock / Group).Clear();
                continue;
            }
            float iscale = -127f / max;
            for (int j = 0; j < SuperBlock; j++) codes[j] = (sbyte)Math.Min(127, KQuantFit.NearestInt(iscale * block[j]));
            for (int g = 0; g < SuperBlock / Group; g++)
            {
                int sum = 0;
                for (int j = 0; j < Group; j++) sum += codes[g * Group + j];
                sums[b * (SuperBlock / Group) + g] = (short)sum;
            }
            d[b] = 1 / iscale;
        }
    }

    public static float DotQ4_K(byte* w, sbyte* a, float* da, short* sums, int superBlocks) => DotScaleMin(w, a, da, sums, superBlocks, fiveBit: false);

    public static float DotQ5_K(byte* w, sbyte* a, float* da, short* sums, int superBlocks) => DotScaleMin(w, a, da, sums, superBlocks, fiveBit: true);

    /// <summary>
    /// Σ over super-blocks of d_a·(d·Σ_j scale_j·Σ q·a − dmin·Σ_j min_j·Σa) for one Q4_K row, or one Q5_K row
    /// (<paramref name="fiveBit"/>), whose codes take a fifth bit from the 32 qh bytes between header and nibbles.
    /// </summary>
    [MethodImpl(KernelRoot.Options)]
    private static float DotScaleMin(byte* w, sbyte* a, float* da, short* sums, int superBlocks, bool fiveBit)
    {
        int blockBytes = fiveBit ? Q5_KBytes : Q4_KBytes, nibbles = fiveBit ? 48 : 16;
        float total = 0;
        for (int b = 0; b < superBlocks; b++, w += blockBytes, a += SuperBlock, sums += SuperBlock / Group)
        {
            var packed = new ReadOnlySpan<byte>(w + 4, 12);
            int dot = 0, minDot = 0;
            for (int j = 0; j < 8; j++)
            {
                var (scale, min) = Q4_K.ScaleMin(packed, j);
                byte* qs = w + nibbles + 32 * (j / 2);
                int shift = 4 * (j % 2);
                int sub = 0;
                for (int l = 0; l < 32; l++)
                {
                    int code = ((qs[l] >> shift) & 0x0f) | (fiveBit ? ((w[16 + l] >> j) & 1) << 4 : 0);
                    sub += code * a[32 * j + l];
                }
                dot += scale * sub;
                minDot += min * (sums[2 * j] + sums[2 * j + 1]);
            }
            total += HalfFloat.ToSingle(*(ushort*)w) * da[b] * dot - HalfFloat.ToSingle(*(ushort*)(w + 2)) * da[b] * minDot;
        }
        return total;
    }

    /// <summary>Σ over super-blocks of d·d_a·Σ_s scale_s·Σ (q − 32)·a for one Q6_K row.</summary>
    [MethodImpl(KernelRoot.Options)]
    public static float DotQ6_K(byte* w, sbyte* a, float* da, int superBlocks)
    {
        float total = 0;
        for (int b = 0; b < superBlocks; b++, w += Q6_KBytes, a += SuperBlock)
        {
            sbyte* scales = (sbyte*)(w + 192);
            int dot = 0;
            for (int e = 0; e < SuperBlock; e++) dot += scales[e / Group] * (Q6Code(w, e) - 32) * a[e];
            total += HalfFloat.ToSingle(*(ushort*)(w + 208)) * da[b] * dot;
        }
        return total;
    }

    /// <summary>The 6-bit code of element e (0–255) of a Q6_K block, in dequantize_row_q6_K's layout.</summary>
    public static int Q6Code(byte* block, int e)
    {
        int half = e / 128, quarter = e % 128 / 32, l = e % 32;
        byte low = block[64 * half + l + 32 * (quarter & 1)];
        int nibble = quarter < 2 ? low & 0x0f : low >> 4;
        return nibble | (((block[128 + 32 * half + l] >> (2 * quarter)) & 3) << 4);
    }
}
