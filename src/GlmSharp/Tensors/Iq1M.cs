using System.Buffers.Binary;

namespace GlmSharp.Tensors;

/// <summary>
/// ggml's IQ1_M block (1.75 bits a value), which has no d field: 32 low bytes of 11-bit indices into
/// <see cref="Iq1Grid"/>; 16 bytes with a nibble per eight values (the index's top three bits, and bit 3 choosing the
/// shift −1/8 (set) or +1/8); then four 16-bit words, each holding four 3-bit scales s (one per 16 values, at bits
/// 0, 3, 6, 9) and, in its top nibble, a quarter of the fp16 d (word k gives bits 4k to 4k + 3).
/// </summary>
public readonly struct Iq1M : IIqBlock
{
    public const int BytesPerBlock = 32 + 16 + 8;
    public const int HighOffset = 32, ScalesOffset = 48;

    public static int Bytes => BytesPerBlock;
    public static int MaxMagnitude => 9;
    public static bool ValuesInEighths => true;

    public static ushort ScaleBits(ReadOnlySpan<byte> block)
    {
        int bits = 0;
        for (int k = 0; k < 4; k++) bits |= (BinaryPrimitives.ReadUInt16LittleEndian(block[(ScalesOffset + 2 * k)..]) >> 12) << (4 * k);
        return (ushort)bits;
    }

    public static void Expand(ReadOnlySpan<byte> block, Span<sbyte> values, Span<short> scales)
    {
        for (int k = 0; k < 32; k++)
        {
            int nibble = block[HighOffset + k / 2] >> (4 * (k % 2));
            int index = block[k] | (nibble & 7) << 8;
            IqCodec.ShiftedEighths(Iq1Grid.Entries[index], (nibble & 8) != 0 ? -1 : 1, values.Slice(8 * k, 8));
        }
        for (int g = 0; g < 16; g++)
        {
            int word = BinaryPrimitives.ReadUInt16LittleEndian(block[(ScalesOffset + 2 * (g / 4))..]);
            scales[g] = (short)(2 * ((word >> (3 * (g % 4))) & 7) + 1);
        }
    }

    public static void Dequantize(ReadOnlySpan<byte> src, Span<float> dst) => IqCodec.Dequantize<Iq1M>(src, dst);
}
