using GlmSharp.Errors;
using GlmSharp.Tensors;
using GlmSharp.Tests.Oracle;
using GlmSharp.Tests.Support;

namespace GlmSharp.Tests.Tensors;

/// <summary>
/// The lattice types (IQ2_XXS, IQ2_XS, IQ2_S, IQ1_S, IQ1_M) against blocks worked out by hand and against ggml's
/// to_float on random blocks, bit for bit. They are read, never written.
/// </summary>
public sealed class LatticeFormatTests
{
    public static TheoryData<GgmlType> Types() => new(RandomIqBlocks.LatticeTypes);

    [Trait("Oracle", "llama.cpp")]
    [Theory]
    [MemberData(nameof(Types))]
    public void Decoded_Values_Equal_Ggmls_For_Random_Blocks(GgmlType type) =>
        GgmlCodecParity.AssertDecodedEqual(type, RandomIqBlocks.Create(type, 256 * 256, new Random(2), RandomIqBlocks.AnyFiniteScale));

    [Theory]
    [MemberData(nameof(Types))]
    public void Encoding_Is_Refused_With_The_Types_Named(GgmlType type)
    {
        Assert.True(TensorCodec.Supports(type));
        Assert.False(TensorCodec.CanQuantize(type));
        var error = Assert.Throws<UnsupportedModelException>(() => TensorCodec.QuantizeRow(type, new float[256], new byte[GgmlTypeInfo.BytesPerBlock(type)]));
        Assert.Contains(type.ToString(), error.Message);
    }

    [Fact]
    public void Iq2_Xxs_Value_Is_D_Over_8_Times_Odd_Scale_Times_Signed_Grid_Magnitude()
    {
        var block = new byte[Iq2Xxs.BytesPerBlock];
        block[1] = 0x3C;            // d = 1
        block[2 + 0] = 0;           // sub-block 0, values 0–7: grid entry 0, all magnitudes 8
        block[2 + 1] = 1;           // values 8–15: entry 1 (0x080808080808082b), 43 first and 8 after
        // Sign codes 1 (values 0 and 7 negative: seven stored bits 0000001, the eighth set for even parity) and 0,
        // scale field 3 → 2·3 + 1 = 7.
        BitConverter.TryWriteBytes(block.AsSpan(2 + 4), 1u | 3u << 28);
        var y = new float[256];
        TensorCodec.DequantizeRow(GgmlType.IQ2_XXS, block, y);
        Assert.Equal(-7f / 8 * 8, y[0]);
        Assert.Equal(7f / 8 * 8, y[1]);
        Assert.Equal(-7f / 8 * 8, y[7]);
        Assert.Equal(7f / 8 * 43, y[8]);
        Assert.Equal(7f / 8 * 8, y[15]);
        Assert.Equal(1f / 8 * 8, y[32]); // sub-block 1: all fields 0 → entry 0, no signs, scale 1
    }

    [Fact]
    public void Iq1_M_Takes_D_From_The_Top_Nibbles_And_A_Shift_Per_Eight_Values()
    {
        var block = new byte[Iq1M.BytesPerBlock];
        // d = 2.0 (fp16 0x4000) spread as nibbles 0, 0, 0, 4 over the four scale words' top bits; group 0's scale
        // field 2 → 5, group 1's 1 → 3.
        BitConverter.TryWriteBytes(block.AsSpan(Iq1M.ScalesOffset), (ushort)(2 | 1 << 3));
        BitConverter.TryWriteBytes(block.AsSpan(Iq1M.ScalesOffset + 6), (ushort)0x4000);
        // Every index 0: grid entry 0, eight −1s. Values 8–15 are shifted by −1/8 (bit 3 of their nibble), the rest by +1/8.
        block[Iq1M.HighOffset] = 0x80;
        var y = new float[256];
        TensorCodec.DequantizeRow(GgmlType.IQ1_M, block, y);
        Assert.Equal(ulong.MaxValue, Iq1Grid.Entries[0]);
        Assert.Equal(2 * 5 * (-1 + 0.125f), y[0]);
        Assert.Equal(2 * 5 * (-1 - 0.125f), y[8]);
        Assert.Equal(2 * 3 * (-1 + 0.125f), y[16]);
        Assert.Equal(2 * 1 * (-1 + 0.125f), y[255]); // group 15 shares word 3 with d's top nibble; its scale field is 0
    }
}
