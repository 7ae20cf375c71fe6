using System.Buffers.Binary;

namespace GlmSharp.Tensors;

/// <summary>
/// ggml's Q2_K super-block of 256 values: sixteen bytes of 4-bit scale (low nibble) and min (high nibble), one pair
/// per 16 values, 64 bytes of 2-bit codes, then fp16 d and dmin. Value = d·scale·q − dmin·min, the codes laid out as
/// in <see cref="TwoBitCodes"/> (dequantize_row_q2_K).
/// Encoding follows quantize_row_q2_K_ref, which llama.cpp's quantizer runs when no importance matrix is given.
/// </summary>
public static class Q2_K
{
    public const int BlockSize = 256;
    public const int BytesPerBlock = 16 + BlockSize / 4 + 2 + 2;
    public const int CodesOffset = 16, ScaleOffset = 80, MinOffset = 82;

    /// <summary>The 2-bit code (0–3) of element e of a block.</summary>
    public static int Code(ReadOnlySpan<byte> block, int e) => TwoBitCodes.Get(block.Slice(CodesOffset, BlockSize / 4), e);

    public static void Quantize(ReadOnlySpan<float> src, Span<byte> dst)
    {
        Span<byte> codes = stackalloc byte[BlockSize];
        Span<byte> trial = stackalloc byte[16];
        Span<float> weights = stackalloc float[16];
        Span<float> scales = stackalloc float[16];
        Span<float> mins = stackalloc float[16];
        for (int b = 0; b < src.Length / BlockSize; b++)
        {
            var x = src.Slice(b * BlockSize, BlockSize);
            var block = dst.Slice(b * BytesPerBlock, BytesPerBlock);
            float maxScale = 0, maxMin = 0;
            for (int j = 0; j < 16; j++)
            {
                var xs = x.Slice(16 * j, 16);
                for (int l = 0; l < 16; l++) weights[l] = MathF.Abs(xs[l]);
                // Two-bit codes fit by least absolute deviation (use_mad), which a single outlier sways less.
                scales[j] = KQuantFit.ScaleAndMin(xs, weights, 3, codes.Slice(16 * j, 16), trial, -0.5f, 0.1f, 15, out mins[j], absoluteError: true);
                if (scales[j] > maxScale) maxScale = scales[j];
                if (mins[j] > maxMin) maxMin = mins[j];
            }

            var packed = block[..16];
            packed.Clear();
            ushort dBits = 0, dminBits = 0;
            if (maxScale > 0)
            {
                float iscale = 15f / maxScale;
                // ggml stores nearest_int straight into the uint8_t, unclamped: a negative fit wraps, as it does there.
                for (int j = 0; j < 16; j++) packed[j] = (byte)KQuantFit.NearestInt(iscale * scales[j]);
                dBits = Fp16.FromFloat(maxScale / 15f);
            }
            if (maxMin > 0)
            {
                float iscale = 15f / maxMin;
                for (int j = 0; j < 16; j++) packed[j] |= (byte)(KQuantFit.NearestInt(iscale * mins[j]) << 4);
                dminBits = Fp16.FromFloat(maxMin / 15f);
            }
            BinaryPrimitives.WriteUInt16LittleEndian(block[ScaleOffset..], dBits);
            BinaryPrimitives.WriteUInt16LittleEndian(block[MinOffset..], dminBits);

            // Codes are recomputed against the rounded 4-bit scales and mins and the fp16 d and dmin that decoding will use.
            float d = Fp16.ToFloat(dBits), dmin = Fp16.ToFloat(dminBits);
            for (int j = 0; j < 16; j++)
            {
                float dj = d * (packed[j] & 0x0f);
                if (dj == 0) continue;
                float mj = dmin * (packed[j] >> 4);
                for (int l = 0; l < 16; l++)
                    codes[16 * j + l] = (byte)Math.Max(0, Math.Min(3, KQuantFit.NearestInt((x[16 * j + l] + mj) / dj)));
            }
            TwoBitCodes.Pack(codes, block.Slice(CodesOffset, BlockSize / 4));
        }
    }

    public static void Dequantize(ReadOnlySpan<byte> src, Span<float> dst)
    {
        for (int b = 0; b < dst.Length / BlockSize; b++)
        {
            var block = src.Slice(b * BytesPerBlock, BytesPerBlock);
            var y = dst.Slice(b * BlockSize, BlockSize);
            float d = Fp16.ToFloat(BinaryPrimitives.ReadUInt16LittleEndian(block[ScaleOffset..]));
            float dmin = Fp16.ToFloat(BinaryPrimitives.ReadUInt16LittleEndian(block[MinOffset..]));
            for (int j = 0; j < 16; j++)
            {
                float dj = d * (block[j] & 0x0f), mj = dmin * (block[j] >> 4);
                for (int l = 0; l < 16; l++) y[16 * j + l] = dj * Code(block, 16 * j + l) - mj;
            }
        }
    }
}
