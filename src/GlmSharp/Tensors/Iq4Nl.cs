using System.Buffers.Binary;

namespace GlmSharp.Tensors;

/// <summary>
/// ggml's IQ4_NL block: an fp16 scale d and 16 bytes of 4-bit indices packed as in Q4_0; value = d·Values[q], a
/// non-uniform grid denser near zero. Quantizing follows what llama.cpp's model quantizer writes without an importance
/// matrix (quantize_iq4_nl: quantize_row_iq4_nl_impl with each value weighted by its square and 7 tries): a first scale
/// from the largest magnitude, refined by least squares, then 15 more candidate scales tried; the best scale is rounded
/// to fp16 and the indices chosen again. ggml's from_float_ref for the type tries no candidates and writes other bytes.
/// </summary>
public static class Iq4Nl
{
    public const int BlockSize = 32;
    public const int BytesPerBlock = 2 + BlockSize / 2;

    /// <summary>ggml's kvalues_iq4nl.</summary>
    public static ReadOnlySpan<sbyte> Values => [-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113];

    /// <summary>Candidate scales tried on each side of the first one (ggml's ntry).</summary>
    private const int Tries = 7;

    /// <summary>ggml's GROUP_MAX_EPS: a block whose largest magnitude is below it gets scale 0.</summary>
    private const float ZeroBlockMagnitude = 1e-15f;

    public static void Quantize(ReadOnlySpan<float> src, Span<byte> dst)
    {
        const int half = BlockSize / 2;
        Span<int> codes = stackalloc int[BlockSize];
        for (int b = 0; b < src.Length / BlockSize; b++)
        {
            var x = src.Slice(b * BlockSize, BlockSize);
            var block = dst.Slice(b * BytesPerBlock, BytesPerBlock);
            float d = Scale(x);
            BinaryPrimitives.WriteUInt16LittleEndian(block, Fp16.FromFloat(d));
            // As ggml: the indices are chosen again for the fp32 scale before its fp16 rounding.
            float id = d != 0f ? 1f / d : 0f;
            for (int j = 0; j < BlockSize; j++) codes[j] = NearestIndex(id * x[j]);
            for (int j = 0; j < half; j++) block[2 + j] = (byte)(codes[j] | (codes[half + j] << 4));
        }
    }

    /// <summary>The scale minimising Σ x²·(x − d·Values[q])² over ggml's candidates, in ggml's operation order.</summary>
    private static float Scale(ReadOnlySpan<float> x)
    {
        float amax = 0, max = 0;
        foreach (var v in x)
        {
            float ax = MathF.Abs(v);
            if (ax > amax)
            {
                amax = ax;
                max = v;
            }
        }
        if (amax < ZeroBlockMagnitude) return 0f;
        float first = -max / Values[0];
        var (sumqx, sumq2) = Fit(x, 1f / first);
        float d = sumqx / sumq2;
        float best = d * sumqx;
        for (int step = -Tries; step <= Tries; step++)
        {
            (sumqx, sumq2) = Fit(x, (step + Values[0]) / max);
            if (sumq2 > 0 && sumqx * sumqx > best * sumq2)
            {
                d = sumqx / sumq2;
                best = d * sumqx;
            }
        }
        return d;
    }

    private static (float SumQx, float SumQ2) Fit(ReadOnlySpan<float> x, float id)
    {
        float sumqx = 0, sumq2 = 0;
        foreach (var v in x)
        {
            float q = Values[NearestIndex(id * v)];
            float w = v * v;
            sumqx += w * q * v;
            sumq2 += w * q * q;
        }
        return (sumqx, sumq2);
    }

    /// <summary>ggml's best_index_int8: the nearest grid value, the upper one on a tie.</summary>
    private static int NearestIndex(float x)
    {
        var values = Values;
        if (x <= values[0]) return 0;
        if (x >= values[^1]) return values.Length - 1;
        int lower = 0, upper = values.Length - 1;
        while (upper - lower > 1)
        {
            int middle = (lower + upper) / 2;
            if (x < values[middle]) upper = middle;
            else lower = middle;
        }
        return x - values[upper - 1] < values[upper] - x ? upper - 1 : upper;
    }

    public static void Dequantize(ReadOnlySpan<byte> src, Span<float> dst)
    {
        const int half = BlockSize / 2;
        var values = Values;
        for (int b = 0; b < dst.Length / BlockSize; b++)
        {
            var block = src.Slice(b * BytesPerBlock, BytesPerBlock);
            var y = dst.Slice(b * BlockSize, BlockSize);
            float d = Fp16.ToFloat(BinaryPrimitives.ReadUInt16LittleEndian(block));
            for (int j = 0; j < half; j++)
            {
                byte q = block[2 + j];
                y[j] = d * values[q & 0x0f];
                y[half + j] = d * values[q >> 4];
            }
        }
    }
}
