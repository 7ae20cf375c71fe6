using System.Buffers.Binary;

namespace GlmSharp.Tensors;

/// <summary>
/// ggml's Q4_0 block: an fp16 scale d and 16 bytes of 4-bit codes, value = d * (q - 8).
/// Byte j holds element j in its low nibble and element j + 16 in its high nibble.
/// Quantizing follows quantize_row_q4_0_ref: d = m / -8 where m is the signed value of largest magnitude,
/// q = min(15, trunc(x * (1/d) + 8.5)).
/// </summary>
public static class Q4_0
{
    public const int BlockSize = 32;
    public const int BytesPerBlock = 2 + BlockSize / 2;

    public static void Quantize(ReadOnlySpan<float> src, Span<byte> dst)
    {
        int blocks = CheckLengths(src.Length, dst.Length);
        const int half = BlockSize / 2;
        for (int b = 0; b < blocks; b++)
        {
            var x = src.Slice(b * BlockSize, BlockSize);
            var block = dst.Slice(b * BytesPerBlock, BytesPerBlock);

            float max = BlockExtremes.SignedMax(x);

            float d = max / -8f;
            float id = d != 0f ? 1f / d : 0f;
            BinaryPrimitives.WriteUInt16LittleEndian(block, Fp16.FromFloat(d));
            for (int j = 0; j < half; j++)
            {
                int lo = Math.Min(15, (int)(x[j] * id + 8.5f));
                int hi = Math.Min(15, (int)(x[half + j] * id + 8.5f));
                block[2 + j] = (byte)(lo | (hi << 4));
            }
        }
    }

    public static void Dequantize(ReadOnlySpan<byte> src, Span<float> dst)
    {
        int blocks = CheckLengths(dst.Length, src.Length);
        const int half = BlockSize / 2;
        for (int b = 0; b < blocks; b++)
        {
            var block = src.Slice(b * BytesPerBlock, BytesPerBlock);
            var y = dst.Slice(b * BlockSize, BlockSize);
            float d = Fp16.ToFloat(BinaryPrimitives.ReadUInt16LittleEndian(block));
            for (int j = 0; j < half; j++)
            {
                byte q = block[2 + j];
                y[j] = d * ((q & 0x0f) - 8);
                y[half + j] = d * ((q >> 4) - 8);
            }
        }
    }

    private static int CheckLengths(int elements, int bytes)
    {
        if (elements % BlockSize != 0)
            throw new ArgumentException($"Q4_0 needs a multiple of {BlockSize} elements, got {elements}.");
        int blocks = elements / BlockSize;
        if (bytes != blocks * BytesPerBlock)
            throw new ArgumentException($"Q4_0: {elements} elements take {blocks * BytesPerBlock} bytes, buffer has {bytes}.");
        return blocks;
    }
}
