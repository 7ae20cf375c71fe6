namespace GlmSharp.Tensors;

/// <summary>
/// ggml's IQ3_S super-block of 256 values: an fp16 d, 64 bytes of the low eight bits of 9-bit indices into
/// <see cref="Iq3Grids.S"/> (four magnitudes each, eight indices per 32-value sub-block), eight bytes of their ninth
/// bits (bit k of byte s for index k of sub-block s), 32 bytes of signs (bit k of 32-bit word s: element k of
/// sub-block s is negative), and eight 4-bit scales s. Value = d·(2s + 1)·(±magnitude) (dequantize_row_iq3_s).
/// </summary>
public static class Iq3S
{
    public const int BlockSize = 256;
    public const int SubBlock = 32;
    public const int BytesPerBlock = 2 + BlockSize / 4 + BlockSize / 32 + BlockSize / 8 + BlockSize / 64;
    public const int IndicesOffset = 2, HighBitsOffset = 66, SignsOffset = 74, ScalesOffset = 106;

    /// <summary>The odd scale 2s + 1 (1…31) of sub-block <paramref name="s"/>.</summary>
    public static int Scale(ReadOnlySpan<byte> block, int s) => 2 * ((block[ScalesOffset + s / 2] >> (4 * (s % 2))) & 0x0f) + 1;

    /// <summary>The signed magnitude of element <paramref name="e"/> of a block, before its scales.</summary>
    public static int Code(ReadOnlySpan<byte> block, int e)
    {
        int s = e / SubBlock, k = e % SubBlock;
        int index = block[IndicesOffset + 8 * s + k / 4] | ((block[HighBitsOffset + s] >> (k / 4)) & 1) << 8;
        int magnitude = (byte)(Iq3Grids.S[index] >> (8 * (k % 4)));
        return (block[SignsOffset + 4 * s + k / 8] >> (k % 8) & 1) != 0 ? -magnitude : magnitude;
    }

    public static void Dequantize(ReadOnlySpan<byte> src, Span<float> dst) =>
        IqSubBlockDecoder.Dequantize(src, dst, BytesPerBlock, static (block, d, s) => d * Scale(block, s), Code);
}
