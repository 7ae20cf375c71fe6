using System.Buffers.Binary;

namespace GlmSharp.Tensors;

/// <summary>
/// ggml's Q3_K super-block of 256 values: 32 bytes of high bits (hmask), 64 bytes of low 2-bit pairs, twelve bytes
/// packing sixteen 6-bit scales (one per 16 values, stored + 32), then an fp16 d. Value = d·(scale − 32)·(q − 4) with
/// q the 3-bit code: element e takes its low bits from byte 32·(e / 128) + e % 32 of qs, shifted by 2·(e % 128 / 32),
/// and its high bit from bit e / 32 of hmask[e % 32] (dequantize_row_q3_K).
/// Encoding follows quantize_row_q3_K_ref, which llama.cpp's quantizer runs when no importance matrix is given.
/// </summary>
public static class Q3_K
{
    public const int BlockSize = 256;
    public const int BytesPerBlock = BlockSize / 8 + BlockSize / 4 + 12 + 2;
    public const int HighBitsOffset = 0, LowBitsOffset = 32, ScalesOffset = 96, ScaleOffset = 108;

    /// <summary>
    /// The signed scale (−32…31) of 16-value group j: its low four bits are nibble j / 8 of byte j % 8, its top two
    /// bits pair j / 4 of byte 8 + j % 4.
    /// </summary>
    public static int Scale(ReadOnlySpan<byte> packed, int j)
    {
        int low = j < 8 ? packed[j] & 0x0f : packed[j - 8] >> 4;
        return (low | (((packed[8 + j % 4] >> (2 * (j / 4))) & 3) << 4)) - 32;
    }

    /// <summary>The 3-bit code (0–7, value q − 4) of element e of a block.</summary>
    public static int Code(ReadOnlySpan<byte> block, int e) =>
        TwoBitCodes.Get(block.Slice(LowBitsOffset, BlockSize / 4), e) | (((block[HighBitsOffset + e % 32] >> (e / 32)) & 1) << 2);

    public static void Quantize(ReadOnlySpan<float> src, Span<byte> dst)
    {
        Span<byte> codes = stackalloc byte[BlockSize];
        Span<float> scales = stackalloc float[16];
        for (int b = 0; b < src.Length / BlockSize; b++)
        {
            var x = src.Slice(b * BlockSize, BlockSize);
            var block = dst.Slice(b * BytesPerBlock, BytesPerBlock);
            for (int j = 0; j < 16; j++) scales[j] = KQuantFit.SymmetricScaleRefined(x.Slice(16 * j, 16), 4, codes.Slice(16 * j, 16));
            float maxScale = KQuantFit.LargestMagnitude(scales);

            var packed = block.Slice(ScalesOffset, 12);
            packed.Clear();
            ushort dBits = 0;
            if (maxScale != 0)
            {
                // The scale of largest magnitude maps to −32, so the 6-bit sub-scales use their full range.
                float iscale = -32f / maxScale;
                for (int j = 0; j < 16; j++)
                {
                    // ggml keeps nearest_int in an int8_t before clamping: the truncation is part of the format's behaviour.
                    int l = Math.Max(-32, Math.Min(31, (int)(sbyte)KQuantFit.NearestInt(iscale * scales[j]))) + 32;
                    if (j < 8) packed[j] = (byte)(l & 0x0f);
                    else packed[j - 8] |= (byte)((l & 0x0f) << 4);
                    packed[8 + j % 4] |= (byte)((l >> 4) << (2 * (j / 4)));
                }
                dBits = Fp16.FromFloat(1 / iscale);
            }
            BinaryPrimitives.WriteUInt16LittleEndian(block[ScaleOffset..], dBits);

            // Codes are recomputed against the rounded 6-bit scales and fp16 d that decoding will use.
            float d = Fp16.ToFloat(dBits);
            for (int j = 0; j < 16; j++)
            {
                float dj = d * Scale(packed, j);
                if (dj == 0) continue;
                for (int l = 0; l < 16; l++)
                    codes[16 * j + l] = (byte)(Math.Max(-4, Math.Min(3, KQuantFit.NearestInt(x[16 * j + l] / dj))) + 4);
            }
            var hmask = block.Slice(HighBitsOffset, 32);
            hmask.Clear();
            for (int e = 0; e < BlockSize; e++)
                if (codes[e] > 3)
                {
                    hmask[e % 32] |= (byte)(1 << (e / 32));
                    codes[e] -= 4;
                }
            TwoBitCodes.Pack(codes, block.Slice(LowBitsOffset, BlockSize / 4));
        }
    }

    public static void Dequantize(ReadOnlySpan<byte> src, Span<float> dst)
    {
        for (int b = 0; b < dst.Length / BlockSize; b++)
        {
            var block = src.Slice(b * BytesPerBlock, BytesPerBlock);
            var y = dst.Slice(b * BlockSize, BlockSize);
            float d = Fp16.ToFloat(BinaryPrimitives.ReadUInt16LittleEndian(block[ScaleOffset..]));
            var packed = block.Slice(ScalesOffset, 12);
            for (int j = 0; j < 16; j++)
            {
                float dj = d * Scale(packed, j);
                for (int l = 0; l < 16; l++) y[16 * j + l] = dj * (Code(block, 16 * j + l) - 4);
            }
        }
    }
}
