using System.Buffers.Binary;

namespace GlmSharp.Tensors;

/// <summary>
/// ggml's Q6_K super-block of 256 values: 128 bytes of low nibbles, 64 bytes of high 2-bit pairs, sixteen signed
/// 8-bit scales (one per 16 values) and an fp16 d; value = d·scale·(q − 32) with q the 6-bit code
/// (dequantize_row_q6_K: each 128-value half interleaves its four 32-value quarters across ql and qh).
/// Encoding follows quantize_row_q6_K_ref, which llama.cpp's quantizer runs when no importance matrix is given.
/// </summary>
public static class Q6_K
{
    public const int BlockSize = 256;
    public const int BytesPerBlock = BlockSize / 2 + BlockSize / 4 + BlockSize / 16 + 2;

    public static void Quantize(ReadOnlySpan<float> src, Span<byte> dst)
    {
        Span<byte> codes = stackalloc byte[BlockSize];
        Span<float> scales = stackalloc float[16];
        for (int b = 0; b < src.Length / BlockSize; b++)
        {
            var x = src.Slice(b * BlockSize, BlockSize);
            var block = dst.Slice(b * BytesPerBlock, BytesPerBlock);
            for (int s = 0; s < 16; s++) scales[s] = KQuantFit.SymmetricScale(x.Slice(16 * s, 16), 32, codes.Slice(16 * s, 16));
            float maxScale = KQuantFit.LargestMagnitude(scales);
            block.Clear();
            if (MathF.Abs(maxScale) < KQuantFit.GroupMaxEps) continue;

            // The scale of largest magnitude maps to −128, so the signed 8-bit sub-scales use their full range.
            float iscale = -128f / maxScale;
            ushort dBits = Fp16.FromFloat(1 / iscale);
            BinaryPrimitives.WriteUInt16LittleEndian(block[208..], dBits);
            var packedScales = block.Slice(192, 16);
            for (int s = 0; s < 16; s++) packedScales[s] = (byte)(sbyte)Math.Min(127, KQuantFit.NearestInt(iscale * scales[s]));

            float d = Fp16.ToFloat(dBits);
            for (int s = 0; s < 16; s++)
            {
                float ds = d * (sbyte)packedScales[s];
                if (ds == 0) continue;
                for (int l = 0; l < 16; l++)
                    codes[16 * s + l] = (byte)(Math.Max(-32, Math.Min(31, KQuantFit.NearestInt(x[16 * s + l] / ds))) + 32);
            }
            var ql = block[..128];
            var qh = block.Slice(128, 64);
            for (int half = 0; half < 2; half++)
            {
                var c = codes.Slice(128 * half, 128);
                for (int l = 0; l < 32; l++)
                {
                    ql[64 * half + l] = (byte)((c[l] & 0xf) | ((c[l + 64] & 0xf) << 4));
                    ql[64 * half + l + 32] = (byte)((c[l + 32] & 0xf) | ((c[l + 96] & 0xf) << 4));
                    qh[32 * half + l] = (byte)((c[l] >> 4) | ((c[l + 32] >> 4) << 2) | ((c[l + 64] >> 4) << 4) | ((c[l + 96] >> 4) << 6));
                }
            }
        }
    }

    public static void Dequantize(ReadOnlySpan<byte> src, Span<float> dst)
    {
        for (int b = 0; b < dst.Length / BlockSize; b++)
        {
            var block = src.Slice(b * BytesPerBlock, BytesPerBlock);
            var y = dst.Slice(b * BlockSize, BlockSize);
            var ql = block[..128];
            var qh = block.Slice(128, 64);
            var scales = block.Slice(192, 16);
            float d = Fp16.ToFloat(BinaryPrimitives.ReadUInt16LittleEndian(block[208..]));
            for (int half = 0; half < 2; half++)
            {
                var l0 = ql.Slice(64 * half, 64);
                var h0 = qh.Slice(32 * half, 32);
                var y0 = y.Slice(128 * half, 128);
                for (int l = 0; l < 32; l++)
                {
                    int s = 8 * half + l / 16;
                    int q1 = ((l0[l] & 0x0f) | (((h0[l] >> 0) & 3) << 4)) - 32;
                    int q2 = ((l0[l + 32] & 0x0f) | (((h0[l] >> 2) & 3) << 4)) - 32;
                    int q3 = ((l0[l] >> 4) | (((h0[l] >> 4) & 3) << 4)) - 32;
                    int q4 = ((l0[l + 32] >> 4) | (((h0[l] >> 6) & 3) << 4)) - 32;
                    y0[l] = d * (sbyte)scales[s] * q1;
                    y0[l + 32] = d * (sbyte)scales[s + 2] * q2;
                    y0[l + 64] = d * (sbyte)scales[s + 4] * q3;
                    y0[l + 96] = d * (sbyte)scales[s + 6] * q4;
                }
            }
        }
    }
}
