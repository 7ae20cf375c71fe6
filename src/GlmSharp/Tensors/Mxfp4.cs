namespace GlmSharp.Tensors;

/// <summary>
/// ggml's MXFP4 block (OCP microscaling FP4): an E8M0 exponent byte e and 16 bytes of E2M1 codes for 32 values,
/// value = E2M1(code)·2^(e−127). Byte j holds element j in its low nibble and element j + 16 in its high nibble.
/// Quantizing follows quantize_row_mxfp4_ref: e = ⌊log₂ amax⌋ − 2 + 127 (so amax lands near the top code, 6),
/// then each value takes the nearest code.
/// </summary>
public static class Mxfp4
{
    public const int BlockSize = 32;
    public const int BytesPerBlock = 1 + BlockSize / 2;

    public static void Quantize(ReadOnlySpan<float> src, Span<byte> dst)
    {
        const int half = BlockSize / 2;
        for (int b = 0; b < src.Length / BlockSize; b++)
        {
            var x = src.Slice(b * BlockSize, BlockSize);
            var block = dst.Slice(b * BytesPerBlock, BytesPerBlock);
            float amax = BlockExtremes.MaxMagnitude(x);
            // ggml converts the float exponent to a byte; blocks below 2⁻¹²⁵ would underflow it and take e = 0.
            byte e = amax > 0 ? (byte)Math.Clamp(MathF.Floor(MathF.Log2(amax)) - 2 + 127, 0, 255) : (byte)0;
            float halfScale = Fp4.E8M0Half(e);
            block[0] = e;
            for (int j = 0; j < half; j++)
                block[1 + j] = (byte)(Fp4.NearestCode(x[j], halfScale) | (Fp4.NearestCode(x[half + j], halfScale) << 4));
        }
    }

    public static void Dequantize(ReadOnlySpan<byte> src, Span<float> dst)
    {
        const int half = BlockSize / 2;
        var values = Fp4.DoubledValues;
        for (int b = 0; b < dst.Length / BlockSize; b++)
        {
            var block = src.Slice(b * BytesPerBlock, BytesPerBlock);
            var y = dst.Slice(b * BlockSize, BlockSize);
            float halfScale = Fp4.E8M0Half(block[0]);
            for (int j = 0; j < half; j++)
            {
                y[j] = values[block[1 + j] & 0x0f] * halfScale;
                y[half + j] = values[block[1 + j] >> 4] * halfScale;
            }
        }
    }
}
