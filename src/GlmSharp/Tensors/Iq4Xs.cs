using System.Buffers.Binary;

namespace GlmSharp.Tensors;

/// <summary>
/// ggml's IQ4_XS super-block of 256 values: an fp16 d, then eight 6-bit sub-block scales (stored + 32) split into
/// two high bits each in a 16-bit word and four low bits each in four bytes, then 128 bytes of 4-bit indices into
/// <see cref="Iq4Nl.Values"/>. Value = d·(scale − 32)·Values[q]; sub-block s holds its indices in bytes 16·s to
/// 16·s + 15, the low nibbles giving its first sixteen values and the high nibbles the rest (dequantize_row_iq4_xs).
/// </summary>
public static class Iq4Xs
{
    public const int BlockSize = 256;
    public const int SubBlock = 32;
    public const int BytesPerBlock = 2 + 2 + 4 + BlockSize / 2;
    public const int ScalesHighOffset = 2, ScalesLowOffset = 4, CodesOffset = 8;

    /// <summary>The signed scale (−32…31) of 32-value sub-block <paramref name="s"/>.</summary>
    public static int Scale(ReadOnlySpan<byte> block, int s)
    {
        int low = (block[ScalesLowOffset + s / 2] >> (4 * (s % 2))) & 0x0f;
        int high = (BinaryPrimitives.ReadUInt16LittleEndian(block[ScalesHighOffset..]) >> (2 * s)) & 3;
        return (low | high << 4) - 32;
    }

    /// <summary>The grid value (−127…113) of element <paramref name="e"/> of a block, before its scales.</summary>
    public static int Code(ReadOnlySpan<byte> block, int e)
    {
        byte packed = block[CodesOffset + 16 * (e / SubBlock) + e % 16];
        return Iq4Nl.Values[(packed >> (4 * (e % SubBlock / 16))) & 0x0f];
    }

    public static void Dequantize(ReadOnlySpan<byte> src, Span<float> dst) =>
        IqSubBlockDecoder.Dequantize(src, dst, BytesPerBlock, static (block, d, s) => d * Scale(block, s), Code);
}
