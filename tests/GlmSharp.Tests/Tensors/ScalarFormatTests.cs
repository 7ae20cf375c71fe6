using GlmSharp.Tensors;

namespace GlmSharp.Tests.Tensors;

public class ScalarFormatTests
{
    [Theory]
    [InlineData(1.0f, 0x3C00)]
    [InlineData(-2.0f, 0xC000)]
    [InlineData(0.5f, 0x3800)]
    [InlineData(65504f, 0x7BFF)]
    [InlineData(70000f, 0x7C00)]
    [InlineData(5.9604645e-8f, 0x0001)]
    public void Fp16_Encodes_Known_Bit_Patterns(float value, int bits) =>
        Assert.Equal((ushort)bits, Fp16.FromFloat(value));

    [Fact]
    public void Fp16_Rounds_Halfway_Cases_To_Even()
    {
        // 1 + 2^-11 lies halfway between 1 (0x3C00, even) and 1 + 2^-10 (0x3C01).
        Assert.Equal(0x3C00, Fp16.FromFloat(1f + MathF.Pow(2, -11)));
        // 1 + 3*2^-11 lies halfway between 0x3C01 and 0x3C02 (even).
        Assert.Equal(0x3C02, Fp16.FromFloat(1f + 3 * MathF.Pow(2, -11)));
    }

    [Theory]
    [InlineData(0x3F800000u, 0x3F80)]
    [InlineData(0x3F808000u, 0x3F80)] // tie, 0x3F80 is even
    [InlineData(0x3F818000u, 0x3F82)] // tie, 0x3F82 is even
    [InlineData(0x3F808001u, 0x3F81)] // just above the tie
    [InlineData(0x3F817FFFu, 0x3F81)] // just below the tie
    [InlineData(0xC0490FDBu, 0xC049)] // -pi
    [InlineData(0x7F7FFFFFu, 0x7F80)] // float max rounds up to infinity
    [InlineData(0x7F800001u, 0x7FC0)] // signalling NaN comes back quiet
    public void Bf16_Rounds_To_Nearest_Even(uint floatBits, int expected) =>
        Assert.Equal((ushort)expected, Bf16.FromFloat(BitConverter.UInt32BitsToSingle(floatBits)));

    /// <summary>The vector rounding of whole spans against <see cref="Bf16.FromFloat"/> value by value: the cases above,
    /// negative ties, ±infinity, NaNs, subnormals and random bits, in a span with a tail shorter than a vector.</summary>
    [Fact]
    public void Bf16_Span_Rounding_Equals_Rounding_Each_Value()
    {
        var random = new Random(7);
        var bits = new List<uint> { 0x3F800000u, 0x3F808000u, 0x3F818000u, 0x3F808001u, 0x3F817FFFu, 0xBF808000u, 0xBF818000u,
            0x7F7FFFFFu, 0x7F800000u, 0xFF800000u, 0x7F800001u, 0xFFC00001u, 0x00000001u, 0x807FFFFFu, 0x00008000u, 0x00018000u };
        while (bits.Count < 1037) bits.Add((uint)random.NextInt64(0, 1L << 32));
        var values = bits.Select(BitConverter.UInt32BitsToSingle).ToArray();
        var encoded = new ushort[values.Length];
        var rounded = new float[values.Length];
        Bf16.Encode(values, encoded);
        Bf16.Round(values, rounded);
        for (int i = 0; i < values.Length; i++)
        {
            ushort expected = Bf16.FromFloat(values[i]);
            Assert.True(expected == encoded[i], $"bits 0x{bits[i]:X8}: Encode gave 0x{encoded[i]:X4}, FromFloat 0x{expected:X4}");
            Assert.True(BitConverter.SingleToUInt32Bits(Bf16.ToFloat(expected)) == BitConverter.SingleToUInt32Bits(rounded[i]),
                $"bits 0x{bits[i]:X8}: Round gave 0x{BitConverter.SingleToUInt32Bits(rounded[i]):X8}");
        }
    }

    [Fact]
    public void Bf16_Widening_Is_Exact()
    {
        Assert.Equal(3.140625f, Bf16.ToFloat(0x4049));
        Assert.Equal(-1f, Bf16.ToFloat(0xBF80));
    }

    [Theory]
    [InlineData(GgmlType.F32, 8, 32)]
    [InlineData(GgmlType.F16, 8, 16)]
    [InlineData(GgmlType.BF16, 8, 16)]
    [InlineData(GgmlType.Q8_0, 64, 68)]
    [InlineData(GgmlType.Q4_0, 64, 36)]
    [InlineData(GgmlType.Q4_K, 512, 288)]
    [InlineData(GgmlType.Q5_K, 512, 352)]
    [InlineData(GgmlType.Q6_K, 256, 210)]
    [InlineData(GgmlType.MXFP4, 32, 17)]
    public void RowByteSize_Matches_Ggml_Block_Layout(GgmlType type, long elements, long bytes) =>
        Assert.Equal(bytes, GgmlTypeInfo.RowByteSize(type, elements));

    [Fact]
    public void RowByteSize_Rejects_Partial_Blocks() =>
        Assert.Throws<ArgumentException>(() => GgmlTypeInfo.RowByteSize(GgmlType.Q8_0, 48));
}
