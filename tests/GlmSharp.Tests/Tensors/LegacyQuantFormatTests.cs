using GlmSharp.Models;
using GlmSharp.Tensors;
using GlmSharp.Tests.Oracle;
using LLama.Native;

namespace GlmSharp.Tests.Tensors;

/// <summary>
/// Q4_1, Q5_0, Q5_1 and IQ4_NL against closed-form blocks and against ggml's own converters: quantized bytes identical
/// to ggml_quantize_chunk without an importance matrix (what llama.cpp's model quantizer writes: quantize_row_*_ref for
/// the first three, quantize_iq4_nl for IQ4_NL), decoded values bit-identical to to_float.
/// </summary>
public sealed class LegacyQuantFormatTests
{
    [Theory]
    [InlineData(GgmlType.Q4_1, LLamaFtype.MOSTLY_Q4_1)]
    [InlineData(GgmlType.Q5_0, LLamaFtype.MOSTLY_Q5_0)]
    [InlineData(GgmlType.Q5_1, LLamaFtype.MOSTLY_Q5_1)]
    [InlineData(GgmlType.IQ4_NL, LLamaFtype.MOSTLY_IQ4_NL)]
    public void Gguf_File_Type_Is_LlamaCpps(GgmlType type, LLamaFtype fileType) =>
        Assert.Equal((uint)fileType, QuantizationScheme.Uniform(type).FileType);

    /// <summary>Blocks of very different magnitudes, all-zero, constant, below ggml's 1e-15 all-zero threshold, one
    /// outlier, all negative, all positive, values on rounding ties, and plain random blocks.</summary>
    private static float[] Values(int blocks, int seed)
    {
        var random = new Random(seed);
        var x = new float[blocks * 32];
        for (int b = 0; b < blocks; b++)
        {
            float magnitude = MathF.Pow(10, (float)(random.NextDouble() * 8 - 4));
            for (int j = 0; j < 32; j++)
            {
                float v = (float)(random.NextDouble() * 2 - 1) * magnitude;
                x[b * 32 + j] = (b % 9) switch
                {
                    1 => 0f,
                    2 => 0.75f,
                    3 => 1e-16f * (j - 16),
                    4 => j == 7 ? 1e4f : 0.01f * v,
                    5 => -MathF.Abs(v),
                    6 => MathF.Abs(v) + magnitude,
                    7 => (j % 8 - 3.5f) / 4,
                    _ => v,
                };
            }
        }
        return x;
    }

    [Trait("Oracle", "llama.cpp")]
    [Theory]
    [InlineData(GgmlType.Q4_1)]
    [InlineData(GgmlType.Q5_0)]
    [InlineData(GgmlType.Q5_1)]
    [InlineData(GgmlType.IQ4_NL)]
    public void Quantized_Bytes_Equal_LlamaCpps_Model_Quantizer(GgmlType type)
    {
        for (int seed = 0; seed < 30; seed++) GgmlCodecParity.AssertQuantizedBytesEqual(type, Values(27, seed), $"seed {seed}");
    }

    [Trait("Oracle", "llama.cpp")]
    [Theory]
    [InlineData(GgmlType.Q4_1)]
    [InlineData(GgmlType.Q5_0)]
    [InlineData(GgmlType.Q5_1)]
    [InlineData(GgmlType.IQ4_NL)]
    public void Decoded_Values_Equal_Ggmls_For_Random_Blocks(GgmlType type)
    {
        int blockBytes = GgmlTypeInfo.BytesPerBlock(type), blocks = 512;
        var bytes = new byte[blocks * blockBytes];
        var random = new Random(2);
        random.NextBytes(bytes);
        // Finite fp16 scales and minima of every sign and exponent (0x7C00 and up are infinities and NaNs).
        for (int b = 0; b < blocks; b++)
            for (int h = 0; h < (type is GgmlType.Q4_1 or GgmlType.Q5_1 ? 2 : 1); h++)
                BitConverter.TryWriteBytes(bytes.AsSpan(b * blockBytes + 2 * h), (ushort)(random.Next(0x7C00) | (random.Next(2) << 15)));
        GgmlCodecParity.AssertDecodedEqual(type, bytes);
    }

    [Fact]
    public void Q4_1_Maps_The_Block_Range_Onto_Codes_0_To_15_Above_The_Minimum()
    {
        // min −1, max 14: d = 1, m = −1, q = trunc(x + 1 + 0.5).
        var x = new float[32];
        for (int j = 0; j < 32; j++) x[j] = j % 16 - 1;
        x[5] = 2.49f;
        var bytes = new byte[20];
        TensorCodec.QuantizeRow(GgmlType.Q4_1, x, bytes);
        Assert.Equal((ushort)0x3C00, BitConverter.ToUInt16(bytes, 0));
        Assert.Equal((ushort)0xBC00, BitConverter.ToUInt16(bytes, 2));
        for (int j = 0; j < 16; j++) Assert.Equal(j == 5 ? 3 : j, bytes[4 + j] & 0x0f);
        var y = new float[32];
        TensorCodec.DequantizeRow(GgmlType.Q4_1, bytes, y);
        Assert.Equal(x.Select(v => MathF.Round(v)), y);
    }

    [Fact]
    public void Q5_1_Stores_The_Fifth_Bit_Of_Element_J_In_Bit_J()
    {
        // min 0, max 31: d = 1, q = x.
        var x = new float[32];
        for (int j = 0; j < 32; j++) x[j] = 31 - j;
        var bytes = new byte[24];
        TensorCodec.QuantizeRow(GgmlType.Q5_1, x, bytes);
        uint high = BitConverter.ToUInt32(bytes, 4);
        for (int j = 0; j < 32; j++) Assert.Equal((31 - j) >> 4, (int)(high >> j) & 1);
        Assert.Equal(0xFF, bytes[8]); // codes 31 and 15: low nibbles 15 and 15
        Assert.Equal(0xEE, bytes[9]);
        var y = new float[32];
        TensorCodec.DequantizeRow(GgmlType.Q5_1, bytes, y);
        Assert.Equal(x, y);
    }

    [Fact]
    public void Iq4Nl_Decodes_Scale_Times_Grid_Value_And_Quantizes_Grid_Points_Exactly()
    {
        // A block made of the grid values themselves (twice): the best scale is 1 and every index is exact.
        var x = new float[32];
        for (int j = 0; j < 32; j++) x[j] = Iq4Nl.Values[j % 16];
        var bytes = new byte[18];
        TensorCodec.QuantizeRow(GgmlType.IQ4_NL, x, bytes);
        Assert.Equal((ushort)0x3C00, BitConverter.ToUInt16(bytes, 0));
        var y = new float[32];
        TensorCodec.DequantizeRow(GgmlType.IQ4_NL, bytes, y);
        Assert.Equal(x, y);
    }

    [Theory]
    [InlineData("q4_1", GgmlType.Q4_1)]
    [InlineData("Q5_0", GgmlType.Q5_0)]
    [InlineData("q5_1", GgmlType.Q5_1)]
    [InlineData("iq4_nl", GgmlType.IQ4_NL)]
    public void Quantize_Targets_Include_The_Type(string name, GgmlType type) =>
        Assert.Equal(type, QuantizationScheme.Parse(name).MatrixType);
}
