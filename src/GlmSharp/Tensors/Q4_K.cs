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
        for (int b = 0; b < src.Length / BlockSize; b++)
        {
            var block = dst.Slice(b * BytesPerBlock, BytesPerBlock);
            ScaleMinHeader.Encode(src.Slice(b * BlockSize, BlockSize), block, codes, nmax: 15, rangeStart: -1f, steps: 20);
            var qs = block[ScaleMinHeader.Bytes..];
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
