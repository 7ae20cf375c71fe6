using GlmSharp.Errors;
using GlmSharp.Tensors;

namespace GlmSharp.Tests.Tensors;

public class BlockFormatTests
{
    [Fact]
    public void Q8_0_Quantizes_A_Block_With_Unit_Scale_Rounding_Ties_Away_From_Zero()
    {
        // amax = 127, so d = 1 (fp16 0x3C00) and q = roundf(x).
        var x = new float[32];
        x[0] = 127f; x[1] = -127f; x[2] = 2.5f; x[3] = -2.5f; x[4] = 0.49f; x[5] = -3.51f; x[6] = 100.2f;
        var bytes = new byte[34];
        TensorCodec.QuantizeRow(GgmlType.Q8_0, x, bytes);

        var expected = new byte[34];
        expected[0] = 0x00; expected[1] = 0x3C;
        expected[2] = 127; expected[3] = unchecked((byte)-127); expected[4] = 3; expected[5] = unchecked((byte)-3);
        expected[6] = 0; expected[7] = unchecked((byte)-4); expected[8] = 100;
        Assert.Equal(expected, bytes);
    }

    [Fact]
    public void Q8_0_All_Zero_Block_Has_Zero_Scale_And_Codes()
    {
        var bytes = new byte[34];
        Array.Fill(bytes, (byte)0xAA);
        TensorCodec.QuantizeRow(GgmlType.Q8_0, new float[32], bytes);
        Assert.All(bytes, b => Assert.Equal(0, b));
    }

    [Fact]
    public void Q8_0_Dequantizes_Scale_Times_Code()
    {
        var bytes = new byte[34];
        bytes[0] = 0x00; bytes[1] = 0x38; // d = 0.5
        bytes[2] = 10; bytes[3] = unchecked((byte)-128); bytes[33] = 127;
        var y = new float[32];
        TensorCodec.DequantizeRow(GgmlType.Q8_0, bytes, y);
        Assert.Equal(5f, y[0]);
        Assert.Equal(-64f, y[1]);
        Assert.Equal(63.5f, y[31]);
        Assert.Equal(0f, y[2]);
    }

    [Fact]
    public void Q4_0_Packs_Element_J_Low_And_J_Plus_16_High_With_Negative_Max_Scale()
    {
        // The largest magnitude is -8 (first seen at j = 0), so d = -8 / -8 = 1 and q = min(15, trunc(x + 8.5)).
        var x = new float[32];
        for (int j = 0; j < 16; j++)
        {
            x[j] = j - 8;      // q = j
            x[16 + j] = 7 - j; // q = 15 - j
        }
        var bytes = new byte[18];
        TensorCodec.QuantizeRow(GgmlType.Q4_0, x, bytes);

        Assert.Equal(0x00, bytes[0]);
        Assert.Equal(0x3C, bytes[1]);
        for (int j = 0; j < 16; j++) Assert.Equal((byte)(j | ((15 - j) << 4)), bytes[2 + j]);
    }

    [Fact]
    public void Q4_0_Positive_Max_Gives_Negative_Scale_And_Clamps_To_15()
    {
        // max = +8 (seen before -8), d = -1, id = -1: x = 8 -> 0.5 -> 0; x = -8 -> 16.5 -> 16, clamped to 15; 0 -> 8.
        var x = new float[32];
        x[0] = 8f; x[1] = -8f; x[17] = 0.6f;
        var bytes = new byte[18];
        TensorCodec.QuantizeRow(GgmlType.Q4_0, x, bytes);

        Assert.Equal(0x00, bytes[0]);
        Assert.Equal(0xBC, bytes[1]);
        Assert.Equal(0x80, bytes[2]);               // low: element 0 -> 0, high: element 16 -> 8
        Assert.Equal((byte)(15 | (7 << 4)), bytes[3]); // low: element 1 -> 15, high: element 17: -0.6 + 8.5 = 7.9 -> 7
        for (int j = 2; j < 16; j++) Assert.Equal(0x88, bytes[2 + j]);
    }

    [Fact]
    public void Q4_0_Dequantizes_Scale_Times_Code_Minus_8()
    {
        var bytes = new byte[18];
        bytes[0] = 0x00; bytes[1] = 0x40; // d = 2
        bytes[2] = 0xF0;                  // element 0: q 0 -> -16; element 16: q 15 -> 14
        bytes[17] = 0x9A;                 // element 15: q 10 -> 4; element 31: q 9 -> 2
        var y = new float[32];
        TensorCodec.DequantizeRow(GgmlType.Q4_0, bytes, y);
        Assert.Equal(-16f, y[0]);
        Assert.Equal(14f, y[16]);
        Assert.Equal(4f, y[15]);
        Assert.Equal(2f, y[31]);
    }

    [Fact]
    public void Q5_0_Puts_The_Fifth_Bit_Of_Element_J_In_Bit_J_Of_The_High_Word()
    {
        // max = -16 (first), so d = 1 and q = min(31, trunc(x + 16.5)): element j → j, element 16 + j → 31 - j.
        var x = new float[32];
        for (int j = 0; j < 16; j++)
        {
            x[j] = j - 16;
            x[16 + j] = 15 - j;
        }
        var bytes = new byte[22];
        TensorCodec.QuantizeRow(GgmlType.Q5_0, x, bytes);

        Assert.Equal(0x3C00, BitConverter.ToUInt16(bytes, 0));
        // Elements 0–15 have codes 0–15 (no fifth bit); elements 16–31 have codes 31–16 (all have it).
        Assert.Equal(0xFFFF0000u, BitConverter.ToUInt32(bytes, 2));
        for (int j = 0; j < 16; j++) Assert.Equal((byte)(j | ((15 - j) << 4)), bytes[6 + j]);

        var y = new float[32];
        TensorCodec.DequantizeRow(GgmlType.Q5_0, bytes, y);
        Assert.Equal(x, y);
    }

    [Fact]
    public void Q6_K_Round_Trip_Of_A_Block_With_Sixteen_Exact_Levels_Is_Exact()
    {
        // Every 16-value group spans −32…31 times the same step: the scale search finds it, and the codes decode
        // back to the inputs exactly (the step 1/64 and the scales are exact in fp16).
        var x = new float[256];
        for (int i = 0; i < 256; i++) x[i] = (i % 16 == 0 ? -32 : i * 7 % 64 - 32) / 64f;
        var bytes = new byte[210];
        TensorCodec.QuantizeRow(GgmlType.Q6_K, x, bytes);
        var y = new float[256];
        TensorCodec.DequantizeRow(GgmlType.Q6_K, bytes, y);
        for (int i = 0; i < 256; i++) Assert.True(Math.Abs(x[i] - y[i]) <= 1e-6, $"element {i}: {x[i]} → {y[i]}");
    }

    [Fact]
    public void Q4_K_Round_Trip_Error_Stays_Within_Half_A_Step_Of_Each_Sub_Block()
    {
        var random = new Random(9);
        var x = new float[512];
        for (int i = 0; i < x.Length; i++) x[i] = (float)(random.NextDouble() * 2 - 1) * (1 + i / 32);
        var bytes = new byte[288];
        TensorCodec.QuantizeRow(GgmlType.Q4_K, x, bytes);
        var y = new float[512];
        TensorCodec.DequantizeRow(GgmlType.Q4_K, bytes, y);
        for (int j = 0; j < 16; j++)
        {
            var sub = x.AsSpan(32 * j, 32);
            float range = sub.ToArray().Max() - Math.Min(0, sub.ToArray().Min());
            // 15 steps span the range; 6-bit scales and fp16 super-scales add a little on top of half a step.
            for (int i = 32 * j; i < 32 * j + 32; i++)
                Assert.True(Math.Abs(x[i] - y[i]) <= 0.6 * range / 15, $"element {i}: {x[i]} → {y[i]}");
        }
    }

    [Theory]
    [InlineData(GgmlType.F32)]
    [InlineData(GgmlType.F16)]
    [InlineData(GgmlType.BF16)]
    public void Plain_Types_Round_Trip_Exactly_Representable_Values(GgmlType type)
    {
        var x = new float[] { 1f, -0.5f, 256f, 0.375f, -3f, 0f };
        var bytes = new byte[GgmlTypeInfo.RowByteSize(type, x.Length)];
        TensorCodec.QuantizeRow(type, x, bytes);
        var y = new float[x.Length];
        TensorCodec.DequantizeRow(type, bytes, y);
        Assert.Equal(x, y);
    }

    [Fact]
    public unsafe void DequantizeRow_From_Pointer_Reads_One_Row()
    {
        var bytes = new byte[] { 0x00, 0x3C, 0x00, 0xC0 }; // fp16 1, -2
        var y = new float[2];
        fixed (byte* p = bytes) TensorCodec.DequantizeRow(GgmlType.F16, p, y);
        Assert.Equal(new[] { 1f, -2f }, y);
    }

    [Fact]
    public void Unsupported_Type_Raises_UnsupportedModelException()
    {
        var e = Assert.Throws<UnsupportedModelException>(() => TensorCodec.DequantizeRow(GgmlType.Q8_K, new byte[292], new float[256]));
        Assert.Contains("Q8_K", e.Message);
    }

    [Fact]
    public void Encoding_To_A_Type_Without_An_Encoder_Is_Refused()
    {
        var e = Assert.Throws<UnsupportedModelException>(() => TensorCodec.QuantizeRow(GgmlType.Q8_K, new float[256], new byte[292]));
        Assert.Contains("Q8_K", e.Message);
    }

    [Fact]
    public void Wrong_Buffer_Size_Is_Rejected() =>
        Assert.Throws<ArgumentException>(() => TensorCodec.QuantizeRow(GgmlType.Q8_0, new float[32], new byte[33]));
}
