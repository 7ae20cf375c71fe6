namespace GlmSharp.Tensors;

/// <summary>
/// ggml's NVFP4 block: 64 values as four sub-blocks of 16, four UE4M3 scale bytes then 32 bytes of E2M1 codes,
/// value = E2M1(code)·UE4M3(scale of its sub-block). Sub-block s owns bytes 8s…8s+7; byte j of it holds element j
/// in its low nibble and element j + 8 in its high nibble. NVIDIA's per-tensor second-level scale is not part of
/// the block (ggml leaves it out). Quantizing follows quantize_row_nvfp4_ref: scale = UE4M3(amax / 6), then the
/// nearest code.
/// </summary>
public static class Nvfp4
{
    public const int BlockSize = 64;
    public const int SubBlockSize = 16;
    public const int SubBlocks = BlockSize / SubBlockSize;
    public const int BytesPerBlock = SubBlocks + BlockSize / 2;

    public static void Quantize(ReadOnlySpan<float> src, Span<byte> dst)
    {
        const int half = SubBlockSize / 2;
        for (int b = 0; b < src.Length / BlockSize; b++)
        {
            var block = dst.Slice(b * BytesPerBlock, BytesPerBlock);
            for (int s = 0; s < SubBlocks; s++)
            {
                var x = src.Slice(b * BlockSize + s * SubBlockSize, SubBlockSize);
                float amax = BlockExtremes.MaxMagnitude(x);
                byte scale = Fp4.ToUe4m3(amax / 6f);
                float halfScale = Fp4.Ue4m3Half(scale);
                block[s] = scale;
                var codes = block.Slice(SubBlocks + s * half, half);
                for (int j = 0; j < half; j++)
                    codes[j] = (byte)(Fp4.NearestCode(x[j], halfScale) | (Fp4.NearestCode(x[half + j], halfScale) << 4));
            }
        }
    }

    public static void Dequantize(ReadOnlySpan<byte> src, Span<float> dst)
    {
        const int half = SubBlockSize / 2;
        var values = Fp4.DoubledValues;
        for (int b = 0; b < dst.Length / BlockSize; b++)
        {
            var block = src.Slice(b * BytesPerBlock, BytesPerBlock);
            for (int s = 0; s < SubBlocks; s++)
            {
                float halfScale = Fp4.Ue4m3Half(block[s]);
                var codes = block.Slice(SubBlocks + s * half, half);
                var y = dst.Slice(b * BlockSize + s * SubBlockSize, SubBlockSize);
                for (int j = 0; j < half; j++)
                {
                    y[j] = values[codes[j] & 0x0f] * halfScale;
                    y[half + j] = values[codes[j] >> 4] * halfScale;
                }
            }
        }
    }
}
