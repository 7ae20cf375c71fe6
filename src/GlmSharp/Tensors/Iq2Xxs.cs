using System.Buffers.Binary;

namespace GlmSharp.Tensors;

/// <summary>
/// ggml's IQ2_XXS block (2.06 bits a value): fp16 d, then per 32 values eight bytes: four 8-bit indices into
/// <see cref="Iq2Grids.Xxs"/> (eight magnitudes each), then a 32-bit word holding four 7-bit
/// <see cref="EvenParitySigns"/> codes (bits 7·l) and the sub-block's 4-bit scale s (bits 28–31).
/// </summary>
public readonly struct Iq2Xxs : IIqBlock
{
    public const int BytesPerBlock = 2 + 64;

    public static int Bytes => BytesPerBlock;
    public static int MaxMagnitude => 43;
    public static bool ValuesInEighths => false;

    public static void Expand(ReadOnlySpan<byte> block, Span<sbyte> values, Span<short> scales)
    {
        for (int ib = 0; ib < 8; ib++)
        {
            var sub = block.Slice(2 + 8 * ib, 8);
            uint high = BinaryPrimitives.ReadUInt32LittleEndian(sub[4..]);
            for (int l = 0; l < 4; l++)
                IqCodec.SignedMagnitudes(Iq2Grids.Xxs[sub[l]], EvenParitySigns.Table[(int)(high >> (7 * l)) & 127], values.Slice(32 * ib + 8 * l, 8));
            scales[2 * ib] = scales[2 * ib + 1] = (short)(2 * (high >> 28) + 1);
        }
    }

    public static void Dequantize(ReadOnlySpan<byte> src, Span<float> dst) => IqCodec.Dequantize<Iq2Xxs>(src, dst);
}
