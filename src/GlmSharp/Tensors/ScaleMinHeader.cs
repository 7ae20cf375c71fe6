using System.Buffers.Binary;

namespace GlmSharp.Tensors;

/// <summary>
/// The first 16 bytes shared by Q4_K and Q5_K super-blocks (fp16 d and dmin, then eight 6-bit scales and eight 6-bit
/// mins packed into twelve bytes, see <see cref="Q4_K.ScaleMin"/>) and the codes that go with them, as ggml's
/// quantize_row_q4_K_ref and quantize_row_q5_K_ref compute them: the two encoders differ only in the code range and
/// in the stretched ranges their make_qkx2_quants search tries.
/// </summary>
internal static class ScaleMinHeader
{
    public const int Bytes = 16;
    private const int SubBlock = 32, SubBlocks = 8;

    /// <summary>
    /// Encodes the 256 values of <paramref name="x"/> into <paramref name="header"/> and their codes 0…<paramref name="nmax"/>
    /// (in element order) into <paramref name="codes"/>, with value ≈ d·scale·code − dmin·min.
    /// </summary>
    public static void Encode(ReadOnlySpan<float> x, Span<byte> header, Span<byte> codes, int nmax, float rangeStart, int steps)
    {
        Span<byte> trial = stackalloc byte[SubBlock];
        Span<float> weights = stackalloc float[SubBlock];
        Span<float> scales = stackalloc float[SubBlocks];
        Span<float> mins = stackalloc float[SubBlocks];
        float maxScale = 0, maxMin = 0;
        for (int j = 0; j < SubBlocks; j++)
        {
            var xs = x.Slice(SubBlock * j, SubBlock);
            float sumX2 = 0;
            foreach (var v in xs) sumX2 += v * v;
            // Weights favour large magnitudes on top of the sub-block's RMS, as in the reference encoders.
            float rms = MathF.Sqrt(sumX2 / SubBlock);
            for (int l = 0; l < SubBlock; l++) weights[l] = rms + MathF.Abs(xs[l]);
            scales[j] = KQuantFit.ScaleAndMin(xs, weights, nmax, codes.Slice(SubBlock * j, SubBlock), trial, rangeStart, 0.1f, steps, out mins[j]);
            if (scales[j] > maxScale) maxScale = scales[j];
            if (mins[j] > maxMin) maxMin = mins[j];
        }

        var packed = header.Slice(4, 12);
        packed.Clear();
        float inverseScale = maxScale > 0 ? 63f / maxScale : 0f;
        float inverseMin = maxMin > 0 ? 63f / maxMin : 0f;
        for (int j = 0; j < SubBlocks; j++)
        {
            // ggml stores nearest_int into a uint8_t before clamping, so the truncation is part of the format's behaviour.
            int ls = Math.Min(63, (int)(byte)KQuantFit.NearestInt(inverseScale * scales[j]));
            int lm = Math.Min(63, (int)(byte)KQuantFit.NearestInt(inverseMin * mins[j]));
            if (j < 4)
            {
                packed[j] = (byte)ls;
                packed[j + 4] = (byte)lm;
            }
            else
            {
                packed[j + 4] = (byte)((ls & 0xf) | ((lm & 0xf) << 4));
                packed[j - 4] |= (byte)((ls >> 4) << 6);
                packed[j] |= (byte)((lm >> 4) << 6);
            }
        }
        ushort dBits = Fp16.FromFloat(maxScale / 63f), dminBits = Fp16.FromFloat(maxMin / 63f);
        BinaryPrimitives.WriteUInt16LittleEndian(header, dBits);
        BinaryPrimitives.WriteUInt16LittleEndian(header[2..], dminBits);

        // Codes are recomputed against the rounded 6-bit scales and fp16 super-scales that decoding will use.
        float d = Fp16.ToFloat(dBits), dmin = Fp16.ToFloat(dminBits);
        for (int j = 0; j < SubBlocks; j++)
        {
            var (scale, min) = Q4_K.ScaleMin(packed, j);
            float dj = d * scale;
            if (dj == 0) continue;
            float mj = dmin * min;
            for (int l = 0; l < SubBlock; l++)
                codes[SubBlock * j + l] = (byte)Math.Max(0, Math.Min(nmax, KQuantFit.NearestInt((x[SubBlock * j + l] + mj) / dj)));
        }
    }

    /// <summary>d·scale and dmin·min of sub-block j, as the decoders apply them.</summary>
    public static (float Scale, float Min) SubBlockScale(ReadOnlySpan<byte> header, int j)
    {
        var (scale, min) = Q4_K.ScaleMin(header.Slice(4, 12), j);
        return (Fp16.ToFloat(BinaryPrimitives.ReadUInt16LittleEndian(header)) * scale,
            Fp16.ToFloat(BinaryPrimitives.ReadUInt16LittleEndian(header[2..])) * min);
    }
}
