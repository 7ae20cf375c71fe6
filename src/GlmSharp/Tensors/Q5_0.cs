using System.Buffers.Binary;

namespace GlmSharp.Tensors;

/// <summary>
/// ggml's Q5_0 block: an fp16 scale d and 32 five-bit codes (<see cref="FiveBitCodes"/>); value = d·(q − 16).
/// llama.cpp falls back to it for Q4_K matrices whose rows are not whole 256-value super-blocks. Quantizing follows
/// quantize_row_q5_0_ref: d = m / −16 with m the signed value of largest magnitude, q = min(31, trunc(x·(1/d) + 16.5)).
/// </summary>
public static class Q5_0
{
    public const int BlockSize = 32;
    public const int BytesPerBlock = 2 + FiveBitCodes.Bytes;

    public static void Quantize(ReadOnlySpan<float> src, Span<byte> dst)
    {
        Span<int> codes = stackalloc int[BlockSize];
        for (int b = 0; b < src.Length / BlockSize; b++)
        {
            var x = src.Slice(b * BlockSize, BlockSize);
            var block = dst.Slice(b * BytesPerBlock, BytesPerBlock);
            float d = BlockExtremes.SignedMax(x) / -16f;
            float id = d != 0f ? 1f / d : 0f;
            BinaryPrimitives.WriteUInt16LittleEndian(block, Fp16.FromFloat(d));
            for (int j = 0; j < BlockSize; j++) codes[j] = Math.Min(31, (int)(x[j] * id + 16.5f));
            FiveBitCodes.Write(codes, block[2..]);
        }
    }

    public static void Dequantize(ReadOnlySpan<byte> src, Span<float> dst)
    {
        Span<int> codes = stackalloc int[BlockSize];
        for (int b = 0; b < dst.Length / BlockSize; b++)
        {
            var block = src.Slice(b * BytesPerBlock, BytesPerBlock);
            float d = Fp16.ToFloat(BinaryPrimitives.ReadUInt16LittleEndian(block));
            FiveBitCodes.Read(block[2..], codes);
            for (int j = 0; j < BlockSize; j++) dst[b * BlockSize + j] = d * (codes[j] - 16);
        }
    }
}
