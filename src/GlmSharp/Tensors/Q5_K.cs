namespace GlmSharp.Tensors;

/// <summary>
/// ggml's Q5_K super-block of 256 values: Q4_K's 16-byte header (fp16 d and dmin, eight 6-bit scales and mins), 32
/// bytes of fifth bits, then 128 bytes of nibbles laid out as in Q4_K. Value = d·scale·q − dmin·min with q 0–31; the
/// fifth bit of element 64c + l is bit 2c of qh[l] and that of element 64c + 32 + l bit 2c + 1 (dequantize_row_q5_K).
/// Encoding follows quantize_row_q5_K_ref, which llama.cpp's quantizer runs when no importance matrix is given.
/// </summary>
public static class Q5_K
{
    public const int BlockSize = 256;
    public const int BytesPerBlock = ScaleMinHeader.Bytes + BlockSize / 8 + BlockSize / 2;
    private const int HighBitsOffset = ScaleMinHeader.Bytes, NibblesOffset = HighBitsOffset + BlockSize / 8;

    public static void Quantize(ReadOnlySpan<float> src, Span<byte> dst)
    {
        Span<byte> codes = stackalloc byte[BlockSize];
        for (int b = 0; b < src.Length / BlockSize; b++)
        {
            var block = dst.Slice(b * BytesPerBlock, BytesPerBlock);
            ScaleMinHeader.Encode(src.Slice(b * BlockSize, BlockSize), block, codes, nmax: 31, rangeStart: -0.5f, steps: 15);
            var qh = block.Slice(HighBitsOffset, 32);
            var qs = block[NibblesOffset..];
            qh.Clear();
            for (int chunk = 0; chunk < 4; chunk++)
                for (int l = 0; l < 32; l++)
                {
                    int low = codes[64 * chunk + l], high = codes[64 * chunk + 32 + l];
                    qs[32 * chunk + l] = (byte)((low & 0x0f) | ((high & 0x0f) << 4));
                    qh[l] |= (byte)(((low >> 4) << (2 * chunk)) | ((high >> 4) << (2 * chunk + 1)));
                }
        }
    }

    public static void Dequantize(ReadOnlySpan<byte> src, Span<float> dst)
    {
        for (int b = 0; b < dst.Length / BlockSize; b++)
        {
            var block = src.Slice(b * BytesPerBlock, BytesPerBlock);
            var y = dst.Slice(b * BlockSize, BlockSize);
            var qh = block.Slice(HighBitsOffset, 32);
            var qs = block[NibblesOffset..];
            for (int chunk = 0; chunk < 4; chunk++)
            {
                var (d1, m1) = ScaleMinHeader.SubBlockScale(block, 2 * chunk);
                var (d2, m2) = ScaleMinHeader.SubBlockScale(block, 2 * chunk + 1);
                for (int l = 0; l < 32; l++)
                {
                    int low = (qs[32 * chunk + l] & 0x0f) | (((qh[l] >> (2 * chunk)) & 1) << 4);
                    int high = (qs[32 * chunk + l] >> 4) | (((qh[l] >> (2 * chunk + 1)) & 1) << 4);
                    y[64 * chunk + l] = d1 * low - m1;
                    y[64 * chunk + 32 + l] = d2 * high - m2;
                }
            }
        }
    }
}
