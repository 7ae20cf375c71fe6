using System.Buffers.Binary;

namespace GlmSharp.Tensors;

/// <summary>
/// ggml's IQ2_S block (2.56 bits a value): fp16 d, 32 low bytes of 10-bit indices into <see cref="Iq2Grids.S"/>, 32
/// sign bytes (all eight signs stored, bit j for value j), then per 32 values a byte of the indices' top two bits
/// (bits 2·l for its eight values l) and a byte of two 4-bit scales as in <see cref="Iq2Xs"/>.
/// </summary>
public readonly struct Iq2S : IIqBlock
{
    public const int BytesPerBlock = 2 + 64 + 8 + 8;
    public const int IndexOffset = 2, SignsOffset = 34, HighBitsOffset = 66, ScalesOffset = 74;

    public static int Bytes => BytesPerBlock;
    public static int MaxMagnitude => 43;
    public static bool ValuesInEighths => false;

    public static void Expand(ReadOnlySpan<byte> block, Span<sbyte> values, Span<short> scales)
    {
        for (int k = 0; k < 32; k++)
        {
            int index = block[IndexOffset + k] | ((block[HighBitsOffset + k / 4] >> (2 * (k % 4))) & 3) << 8;
            IqCodec.SignedMagnitudes(Iq2Grids.S[index], block[SignsOffset + k], values.Slice(8 * k, 8));
        }
        Iq2Xs.NibbleScales(block.Slice(ScalesOffset, 8), scales);
    }

    public static void Dequantize(ReadOnlySpan<byte> src, Span<float> dst) => IqCodec.Dequantize<Iq2S>(src, dst);
}
