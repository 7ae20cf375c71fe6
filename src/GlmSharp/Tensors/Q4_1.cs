using System.Buffers.Binary;

namespace GlmSharp.Tensors;

/// <summary>
/// ggml's Q4_1 block: fp16 scale d, fp16 minimum m and 16 bytes of 4-bit codes packed as in Q4_0; value = d·q + m.
/// Quantizing follows quantize_row_q4_1_ref: d = (max − min) / 15, q = min(15, trunc((x − min)·(1/d) + 0.5)).
/// </summary>
public static class Q4_1
{
    public const int BlockSize = 32;
    public const int BytesPerBlock = 2 + 2 + BlockSize / 2;

    public static void Quantize(ReadOnlySpan<float> src, Span<byte> dst)
    {
        const int half = BlockSize / 2;
        for (int b = 0; b < src.Length / BlockSize; b++)
        {
            var x = src.Slice(b * BlockSize, BlockSize);
            var block = dst.Slice(b * BytesPerBlock, BytesPerBlock);
            var (min, max) = BlockExtremes.Range(x);
            float d = (max - min) / 15f;
            float id = d != 0f ? 1f / d : 0f;
            BinaryPrimitives.WriteUInt16LittleEndian(block, Fp16.FromFloat(d));
            BinaryPrimitives.WriteUInt16LittleEndian(block[2..], Fp16.FromFloat(min));
            for (int j = 0; j < half; j++)
            {
                int lo = Math.Min(15, (int)((x[j] - min) * id + 0.5f));
                int hi = Math.Min(15, (int)((x[half + j] - min) * id + 0.5f));
                block[4 + j] = (byte)(lo | (hi << 4));
            }
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
            float m = Fp16.ToFloat(BinaryPrimitives.ReadUInt16LittleEndian(block[2..]));
            for (int j = 0; j < half; j++)
            {
                byte q = block[4 + j];
                y[j] = d * (q & 0x0f) + m;
                y[half + j] = d * (q >> 4) + m;
            }
        }
    }
}
