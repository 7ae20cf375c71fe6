using GlmSharp.Models;
using GlmSharp.Tensors;
using GlmSharp.Tests.Oracle;
using LLama.Native;

namespace GlmSharp.Tests.Tensors;

/// <summary>
/// Q3_K and Q2_K against blocks worked out by hand and against ggml's own converters: quantized bytes identical to
/// ggml_quantize_chunk without an importance matrix (quantize_row_q3_K_ref / quantize_row_q2_K_ref, what llama.cpp's
/// model quantizer writes), decoded values bit-identical to to_float.
/// </summary>
public sealed class LowBitKQuantFormatTests
{
    [Theory]
    [InlineData(GgmlType.Q2_K, LLamaFtype.MOSTLY_Q2_K)]
    [InlineData(GgmlType.Q3_K, LLamaFtype.MOSTLY_Q3_K_S)]
    public void Gguf_File_Type_Is_LlamaCpps_Pure_Mix(GgmlType type, LLamaFtype fileType) =>
        Assert.Equal((uint)fileType, QuantizationScheme.Uniform(type).FileType);

    [Theory]
    [InlineData("q2_k", GgmlType.Q2_K)]
    [InlineData("Q3_K", GgmlType.Q3_K)]
    public void Quantize_Targets_Include_The_Type(string name, GgmlType type) =>
        Assert.Equal(type, QuantizationScheme.Parse(name).MatrixType);

    /// <summary>
    /// Super-blocks whose 16-value groups take the encoders' branches: groups of very different magnitudes within one
    /// block (small sub-scales next to the largest), all-zero groups and blocks, constant groups, groups below ggml's
    /// 1e-15 all-zero threshold, one outlier, all negative, all positive, values on rounding ties, plain random.
    /// </summary>
    private static float[] Values(int blocks, int seed)
    {
        var random = new Random(seed);
        var x = new float[blocks * 256];
        for (int b = 0; b < blocks; b++)
        {
            float blockMagnitude = MathF.Pow(10, (float)(random.NextDouble() * 8 - 4));
            for (int g = 0; g < 16; g++)
            {
                float magnitude = blockMagnitude * MathF.Pow(10, (float)(random.NextDouble() * 3 - 2));
                int pattern = b % 7 == 1 ? 1 : random.Next(10);
                for (int l = 0; l < 16; l++)
                {
                    float v = (float)(random.NextDouble() * 2 - 1) * magnitude;
                    x[b * 256 + g * 16 + l] = pattern switch
                    {
                        1 => 0f,
                        2 => 0.75f * magnitude,
                        3 => 1e-16f * (l - 8),
                        4 => l == 5 ? 1e3f * magnitude : 0.01f * v,
                        5 => -MathF.Abs(v),
                        6 => MathF.Abs(v) + magnitude,
                        7 => (l % 8 - 3.5f) / 4,
                        _ => v,
                    };
                }
            }
        }
        return x;
    }

    [Trait("Oracle", "llama.cpp")]
    [Theory]
    [InlineData(GgmlType.Q2_K)]
    [InlineData(GgmlType.Q3_K)]
    public void Quantized_Bytes_Equal_LlamaCpps_Model_Quantizer(GgmlType type)
    {
        for (int seed = 0; seed < 40; seed++) GgmlCodecParity.AssertQuantizedBytesEqual(type, Values(14, seed), $"seed {seed}");
    }

    [Trait("Oracle", "llama.cpp")]
    [Theory]
    [InlineData(GgmlType.Q2_K)]
    [InlineData(GgmlType.Q3_K)]
    public void Decoded_Values_Equal_Ggmls_For_Random_Blocks(GgmlType type)
    {
        int blockBytes = GgmlTypeInfo.BytesPerBlock(type), blocks = 256;
        var bytes = new byte[blocks * blockBytes];
        var random = new Random(2);
        random.NextBytes(bytes);
        // Finite fp16 scales of every sign and exponent (0x7C00 and up are infinities and NaNs) at the block's end.
        int halves = type == GgmlType.Q2_K ? 2 : 1;
        for (int b = 0; b < blocks; b++)
            for (int h = 0; h < halves; h++)
                BitConverter.TryWriteBytes(bytes.AsSpan((b + 1) * blockBytes - 2 * (halves - h)), (ushort)(random.Next(0x7C00) | (random.Next(2) << 15)));
        GgmlCodecParity.AssertDecodedEqual(type, bytes);
    }

    [Fact]
    public void Q3_K_Value_Is_D_Times_Signed_Scale_Times_Code_Minus_Four()
    {
        var block = new byte[Q3_K.BytesPerBlock];
        block[Q3_K.ScaleOffset + 1] = 0x3C;     // d = 1
        block[Q3_K.ScalesOffset + 0] = 0x05;    // group 0: low nibble 5; group 8: high nibble 0
        block[Q3_K.ScalesOffset + 8] = 0b10_00_00_11; // group 0: top bits 3 → 5 + 48 − 32 = 21; group 12: top bits 2
        block[Q3_K.ScalesOffset + 4] = 0x70;    // group 12: low nibble 7 → 7 + 32 − 32 = 7
        block[Q3_K.LowBitsOffset + 0] = 0b00_00_00_10;  // element 0: low bits 2
        block[Q3_K.HighBitsOffset + 0] = 0b0000_0001;   // element 0: high bit (bit 0 = first 32 values) → q = 6
        block[Q3_K.LowBitsOffset + 32] = 0b00_00_01_00; // element 128 + 32 = 160 (group 10, scale −32): low bits 1, no high bit
        block[Q3_K.LowBitsOffset + 32 + 2] = 0b00_11_00_00; // element 128 + 64 + 2 = 194 (group 12): low bits 3
        block[Q3_K.HighBitsOffset + 2] = 0b0100_0000;   // element 194: high bit (bit 6) → q = 7
        var y = new float[256];
        TensorCodec.DequantizeRow(GgmlType.Q3_K, block, y);
        Assert.Equal(21 * (6 - 4), y[0]);
        Assert.Equal(21 * (0 - 4), y[1]);
        Assert.Equal(-32 * (1 - 4), y[160]);
        Assert.Equal(7 * (7 - 4), y[194]);
    }

    [Fact]
    public void Q2_K_Value_Is_Scale_Times_Code_Minus_Min_From_Each_Groups_Byte()
    {
        var block = new byte[Q2_K.BytesPerBlock];
        block[Q2_K.ScaleOffset + 1] = 0x3C;     // d = 1
        block[Q2_K.MinOffset + 1] = 0x38;       // dmin = 0.5
        block[0] = 0x32;                        // group 0: scale 2, min 3
        block[6] = 0x01;                        // group 6: scale 1, min 0
        block[15] = 0x0F;                       // group 15: scale 15, min 0
        block[Q2_K.CodesOffset + 0] = 0b11_00_00_01;   // element 0: code 1; element 96 (shift 6): code 3
        block[Q2_K.CodesOffset + 32 + 31] = 0b10_00_00_00; // element 128 + 96 + 31 = 255: code 2
        var y = new float[256];
        TensorCodec.DequantizeRow(GgmlType.Q2_K, block, y);
        Assert.Equal(2 * 1 - 1.5f, y[0]);
        Assert.Equal(-1.5f, y[1]);
        Assert.Equal(15 * 2f, y[255]);
        Assert.Equal(3f, y[96]);
    }
}
