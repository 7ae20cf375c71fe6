using System.Buffers.Binary;

namespace GlmSharp.Tensors;

/// <summary>
/// ggml's Q5_1 block: fp16 scale d, fp16 minimum m and 32 five-bit codes (<see cref="FiveBitCodes"/>); value = d·q + m.
/// Quantizing follows quantize_row_q5_1_ref: d = (max − min) / 31, q = trunc((x − min)·(1/d) + 0.5).
/// </summary>
public static class Q5_1
{
    public const int BlockSize = 32;
    public const int BytesPerBlock = 2 + 2 + FiveBitCodes.Bytes;

    public static void Quantize(ReadOnlySpan<float> src, Span<byte> dst)
    {
        Span<int> codes = stackalloc int[BlockSize];
        for (int b = 0; b < src.Length / BlockSize; b++)
        {
            var x = src.Slice(b * BlockSize, BlockSize);
            var block = dst.Slice(b * BytesPerBlock, BytesPerBlock);
            var (min, max) = BlockExtremes.Range(x);
            float d = (max - min) / 31f;
            float id = d != 0f ? 1f / d : 0f;
            BinaryPrimitives.WriteUInt16LittleEndian(block, Fp16.FromFloat(d));
            BinaryPrimitives.WriteUInt16LittleEndian(block[2..], Fp16.FromFloat(min));
            // ggml casts to uint8_t without clamping: (max − min)·(1/d) + 0.5 stays below 32.
            for (int j = 0; j < BlockSize; j++) codes[j] = (byte)(int)((x[j] - min) * id + 0.5f);
            FiveBitCodes.Write(codes, block[4..]);
        }
    }

    public static void Dequantize(ReadOnlySpan<byte> src, Span<float> dst)
    {
        Span<int> codes = stackalloc int[BlockSize];
        for (int b = 0; b < dst.Length / BlockSize; b++)
        {
            var block = src.Slice(b * BytesPerBlock, BytesPerBlock);
            float d = Fp16.ToFloat(BinaryPrimitives.ReadUInt16LittleEndian(block));
            float m = Fp16.ToFloat(BinaryPrimitives.ReadUInt16LittleEndian(block[2..]));
            FiveBitCodes.Read(block[4..], codes);
            for (int j = 0; j < BlockSize; j++) dst[b * BlockSize + j] = d * codes[j] + m;
        }
    }
}
