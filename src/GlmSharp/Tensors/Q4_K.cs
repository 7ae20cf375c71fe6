using System.Buffers.Binary;

namespace GlmSharp.Tensors;

/// <summary>
/// ggml's Q4_K super-block of 256 values: fp16 d and dmin, twelve bytes packing eight 6-bit scales and eight 6-bit
/// mins, then 128 bytes of nibbles. Each 64-value chunk j takes sub-block 2j from the low nibbles of bytes
/// 32j…32j+31 and sub-block 2j+1 from their high nibbles; value = d·scale·q − dmin·min (dequantize_row_q4_K).
/// Encoding follows quantize_row_q4_K_ref, which llama.cpp's quantizer runs when no importance matrix is given.
/// </summary>
public static class Q4_K
{
    public const int BlockSize = 256;
    public const int BytesPerBlock = 2 + 2 + 12 + BlockSize / 2;

    /// <summary>Scale and min of sub-block j (0–7) from the packed 12 bytes (ggml's get_scale_min_k4).</summary>
    public static (int Scale, int Min) ScaleMin(ReadOnlySpan<byte> packed, int j) => j < 4
        ? (packed[j] & 63, packed[j + 4] & 63)
        : ((packed[j + 4] & 0x0f) | ((packed[j - 4] >> 6) << 4), (packed[j + 4] >> 4) | ((packed[j] >> 6) << 4));

    public static void Quantize(ReadOnlySpan<float> src, Span<byte> dst)
    {
        Span<byte> codes = stackalloc byte[BlockSize];
        Span<byte> trial = stackalloc byte[32];
        Span<float> weights = stackalloc float[32];
        Span<float> scales = stackalloc float[8];
        Span<float> mins = stackalloc float[8];
        for (int b = 0; b < src.Length / BlockSize; b++)
        {
            var x = src.Slice(b * BlockSize, BlockSize);
            var block = dst.Slice(b * BytesPerBlock, BytesPerBlock);
            float maxScale = 0, maxMin = 0;
            for (int j = 0; j < 8; j++)
            {
                var xs = x.Slice(32 * j, 32);
                float sumX2 = 0;
                foreach (var v in xs) sumX2 += v * v;
                // Weights favour large magnitudes on top of the sub-block's RMS, as in the reference encoder.
                float rms = MathF.Sqrt(sumX2 / 32);
                for (int l = 0; l < 32; l++) weights[l] = rms + MathF.Abs(xs[l]);
                scales[j] = KQuantFit.ScaleAndMin(xs, weights, 15, codes.Slice(32 * j, 32), trial, -1f, 0.1f, 20, out mins[j]);
                if (scales[j] > maxScale) maxScale = scales[j];
                if (mins[j] > maxMin) maxMin = mins[j];
            }

            var packed = block.Slice(4, 12);
            packed.Clear();
            float inverseScale = maxScale > 0 ? 63f / maxScale : 0f;
            float inverseMin = maxMin > 0 ? 63f / maxMin : 0f;
            for (int j = 0; j < 8; j++)
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
            BinaryPrimitives.WriteUInt16LittleEndian(block, dBits);
            BinaryPrimitives.WriteUInt16LittleEndian(block[2..], dminBits);

            // Codes are recomputed against the rounded 6-bit scales and fp16 super-scales that decoding will use.
            float d = Fp16.ToFloat(dBits), dmin = Fp16.ToFloat(dminBits);
            for (int j = 0; j < 8; j++)
            {
                var (scale, min) = ScaleMin(packed, j);
                float dj = d * scale;
                if (dj == 0) continue;
                float mj = dmin * min;
                for (int l = 0; l < 32; l++)
                    codes[32 * j + l] = (byte)Math.Max(0, Math.Min(15, KQuantFit.NearestInt((x[32 * j + l] + mj) / dj)));
            }
            var qs = block[16..];
            for (int chunk = 0; chunk < 4; chunk++)
                for (int l = 0; l < 32; l++)
                    qs[32 * chunk + l] = (byte)(codes[64 * chunk + l] | (codes[64 * chunk + 32 + l] << 4));
        }
    }

    public static void Dequantize(ReadOnlySpan<byte> src, Span<float> dst)
    {
        for (int b = 0; b < dst.Length / BlockSize; b++)
        {
            var block = src.Slice(b * BytesPerBlock, BytesPerBlock);
            var y = dst.Slice(b * BlockSize, BlockSize);
            float d = Fp16.ToFloat(BinaryPrimitives.ReadUInt16LittleEndian(block));
            float dmin = Fp16.ToFloat(BinaryPrimitives.ReadUInt16LittleEndian(block[2..]));
            var packed = block.Slice(4, 12);
            var qs = block[16..];
            for (int chunk = 0; chunk < 4; chunk++)
            {
                var (scaleLow, minLow) = ScaleMin(packed, 2 * chunk);
                var (scaleHigh, minHigh) = ScaleMin(packed, 2 * chunk + 1);
                float d1 = d * scaleLow, m1 = dmin * minLow, d2 = d * scaleHigh, m2 = dmin * minHigh;
                for (int l = 0; l < 32; l++)
                {
                    byte q = qs[chunk * 32 + l];
                    y[chunk * 64 + l] = d1 * (q & 0x0f) - m1;
                    y[chunk * 64 + 32 + l] = d2 * (q >> 4) - m2;
                }
            }
        }
    }
}
