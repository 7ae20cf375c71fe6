using System.Buffers.Binary;

namespace GlmSharp.Tensors;

/// <summary>
/// ggml's IQ3_XXS super-block of 256 values: an fp16 d, 64 bytes of indices into <see cref="Iq3Grids.Xxs"/> (four
/// magnitudes each, eight indices per 32-value sub-block), then one 32-bit word per sub-block: four 7-bit codes of
/// <see cref="EvenParitySigns"/> (the signs of each eight values) and a 4-bit scale s on top. Value =
/// d·(0.5 + s)·0.5·(±magnitude), that is d/4·(2s + 1)·(±magnitude) (dequantize_row_iq3_xxs).
/// </summary>
public static class Iq3Xxs
{
    public const int BlockSize = 256;
    public const int SubBlock = 32;
    public const int BytesPerBlock = 2 + 3 * BlockSize / 8;
    public const int IndicesOffset = 2, ScalesAndSignsOffset = 2 + BlockSize / 4;

    private static uint Word(ReadOnlySpan<byte> block, int s) => BinaryPrimitives.ReadUInt32LittleEndian(block[(ScalesAndSignsOffset + 4 * s)..]);

    /// <summary>The odd scale 2s + 1 (1…31) of sub-block <paramref name="s"/>: a value is d/4 times it times a signed magnitude.</summary>
    public static int Scale(ReadOnlySpan<byte> block, int s) => 2 * (int)(Word(block, s) >> 28) + 1;

    /// <summary>The signed magnitude of element <paramref name="e"/> of a block, before its scales.</summary>
    public static int Code(ReadOnlySpan<byte> block, int e)
    {
        int s = e / SubBlock, k = e % SubBlock;
        int magnitude = (byte)(Iq3Grids.Xxs[block[IndicesOffset + 8 * s + k / 4]] >> (8 * (k % 4)));
        int signs = EvenParitySigns.Table[(int)(Word(block, s) >> (7 * (k / 8))) & 127];
        return (signs >> (k % 8) & 1) != 0 ? -magnitude : magnitude;
    }

    /// <summary>Sub-block scales in ggml's operation order, d·(0.5 + s)·0.5, so that the products round alike.</summary>
    public static void Dequantize(ReadOnlySpan<byte> src, Span<float> dst) =>
        IqSubBlockDecoder.Dequantize(src, dst, BytesPerBlock, static (block, d, s) => d * (0.5f + (Word(block, s) >> 28)) * 0.5f, Code);
}
