using System.Buffers.Binary;

namespace GlmSharp.Tensors;

/// <summary>
/// ggml's IQ1_S block (1.56 bits a value): fp16 d, 32 low bytes of 11-bit indices into <see cref="Iq1Grid"/>, then
/// per 32 values a 16-bit word: the indices' top three bits (bits 3·l for its eight values l), the 3-bit scale s
/// (bits 12–14), and bit 15 choosing the shift −1/8 (set) or +1/8 added to every value of the 32.
/// </summary>
public readonly struct Iq1S : IIqBlock
{
    public const int BytesPerBlock = 2 + 32 + 16;
    public const int HighOffset = 34;

    public static int Bytes => BytesPerBlock;
    public static int MaxMagnitude => 9;
    public static bool ValuesInEighths => true;

    public static void Expand(ReadOnlySpan<byte> block, Span<sbyte> values, Span<short> scales)
    {
        for (int ib = 0; ib < 8; ib++)
        {
            int high = BinaryPrimitives.ReadUInt16LittleEndian(block[(HighOffset + 2 * ib)..]);
            int shift = (high & 0x8000) != 0 ? -1 : 1;
            for (int l = 0; l < 4; l++)
            {
                int index = block[2 + 4 * ib + l] | ((high >> (3 * l)) & 7) << 8;
                IqCodec.ShiftedEighths(Iq1Grid.Entries[index], shift, values.Slice(32 * ib + 8 * l, 8));
            }
            scales[2 * ib] = scales[2 * ib + 1] = (short)(2 * ((high >> 12) & 7) + 1);
        }
    }

    public static void Dequantize(ReadOnlySpan<byte> src, Span<float> dst) => IqCodec.Dequantize<Iq1S>(src, dst);
}
