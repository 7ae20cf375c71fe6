using System.Buffers.Binary;

namespace GlmSharp.Tensors;

/// <summary>
/// ggml's IQ2_XS block (2.31 bits a value): fp16 d, 32 16-bit words (a 9-bit index into <see cref="Iq2Grids.Xs"/>
/// and a 7-bit <see cref="EvenParitySigns"/> code, eight values each), then per 32 values a byte of two 4-bit scales
/// s, the low nibble for its first 16 values.
/// </summary>
public readonly struct Iq2Xs : IIqBlock
{
    public const int BytesPerBlock = 2 + 64 + 8;
    public const int ScalesOffset = 66;

    public static int Bytes => BytesPerBlock;
    public static int MaxMagnitude => 43;
    public static bool ValuesInEighths => false;

    public static void Expand(ReadOnlySpan<byte> block, Span<sbyte> values, Span<short> scales)
    {
        for (int k = 0; k < 32; k++)
        {
            int word = BinaryPrimitives.ReadUInt16LittleEndian(block[(2 + 2 * k)..]);
            IqCodec.SignedMagnitudes(Iq2Grids.Xs[word & 511], EvenParitySigns.Table[word >> 9], values.Slice(8 * k, 8));
        }
        NibbleScales(block.Slice(ScalesOffset, 8), scales);
    }

    /// <summary>Two 4-bit scales s per byte, low nibble first, as 2·s + 1 (IQ2_XS and IQ2_S).</summary>
    internal static void NibbleScales(ReadOnlySpan<byte> packed, Span<short> scales)
    {
        for (int ib = 0; ib < 8; ib++)
        {
            scales[2 * ib] = (short)(2 * (packed[ib] & 0x0f) + 1);
            scales[2 * ib + 1] = (short)(2 * (packed[ib] >> 4) + 1);
        }
    }

    public static void Dequantize(ReadOnlySpan<byte> src, Span<float> dst) => IqCodec.Dequantize<Iq2Xs>(src, dst);
}
