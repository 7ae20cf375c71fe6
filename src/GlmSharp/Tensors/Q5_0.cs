using System.Buffers.Binary;

namespace GlmSharp.Tensors;

/// <summary>
/// ggml's Q5_0 block: an fp16 scale d, 32 high bits (bit j is element j's fifth bit) and 16 bytes of low nibbles
/// packed as in Q4_0; value = d·(q − 16). llama.cpp falls back to it for Q4_K matrices whose rows are not whole
/// 256-value super-blocks. Quantizing follows quantize_row_q5_0_ref: d = m / −16 with m the signed value of largest
/// magnitude, q = min(31, trunc(x·(1/d) + 16.5)).
/// </summary>
public static class Q5_0
{
    public const int BlockSize = 32;
    public const int BytesPerBlock = 2 + 4 + BlockSize / 2;

    public static void Quantize(ReadOnlySpan<float> src, Span<byte> dst)
    {
        const int half = BlockSize / 2;
        for (int b = 0; b < src.Length / BlockSize; b++)
        {
            var x = src.Slice(b * BlockSize, BlockSize);
            var block = dst.Slice(b * BytesPerBlock, BytesPerBlock);
            float max = BlockExtremes.SignedMax(x);
            float d = max / -16f;
            float id = d != 0f ? 1f / d : 0f;
            BinaryPrimitives.WriteUInt16LittleEndian(block, Fp16.FromFloat(d));
            uint high = 0;
            for (int j = 0; j < half; j++)
            {
                int lo = Math.Min(31, (int)(x[j] * id + 16.5f));
                int hi = Math.Min(31, (int)(x[half + j] * id + 16.5f));
                block[6 + j] = (byte)((lo & 0x0f) | ((hi & 0x0f) << 4));
                high |= (uint)(lo >> 4) << j;
                high |= (uint)(hi >> 4) << (j + half);
            }
            BinaryPrimitives.WriteUInt32LittleEndian(block[2..], high);
        }
    }

    public static void Dequantize(ReadOnlySpan<byte> src, Span<float> dst)
    {
        const int half = BlockSize / 2;
        for (int b = 0; b < dst.Length / BlockSize; b++)
        {
            var block = src.Slice(b * BytesPerBlock, BytesPerBlock);
            var y = dst.Slice(b * BlockSize, BlockSize);
            float d = Fp16.ToFloat(BinaryPrimitives.ReadUInt16LittleEndian(block));
            uint high = BinaryPrimitives.ReadUInt32LittleEndian(block[2..]);
            for (int j = 0; j < half; j++)
            {
                byte q = block[6 + j];
                y[j] = d * (((q & 0x0f) | (int)((high >> j) & 1) << 4) - 16);
                y[half + j] = d * (((q >> 4) | (int)((high >> (j + half)) & 1) << 4) - 16);
            }
        }
    }
}
