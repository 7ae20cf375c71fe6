using GlmSharp.Models;
using GlmSharp.Tensors;
using GlmSharp.Tests.Oracle;
using LLama.Native;

namespace GlmSharp.Tests.Tensors;

/// <summary>
/// MXFP4 and NVFP4 against closed-form definitions and against ggml's own converters (called in the native
/// library LLamaSharp ships): quantized bytes must be identical, decoded values bit-identical.
/// </summary>
public sealed class Fp4FormatTests
{
    [Fact]
    public void Gguf_File_Types_Are_LlamaCpps()
    {
        // GgufExporter writes general.file_type from the scheme; llama.cpp's llama_ftype numbers for the two formats.
        Assert.Equal((uint)LLamaFtype.LLAMA_FTYPE_MOSTLY_MXFP4_MOE, QuantizationScheme.Uniform(GgmlType.MXFP4).FileType);
        Assert.Equal((uint)LLamaFtype.LLAMA_FTYPE_MOSTLY_NVFP4, QuantizationScheme.Uniform(GgmlType.NVFP4).FileType);
    }

    /// <summary>Blocks of very different magnitudes (down to the UE4M3 subnormals and past its 448 cap), an all-zero
    /// block, a block of one value, and values halfway between two codes.</summary>
    private static float[] Values(int blocks, int blockSize, int seed)
    {
        var random = new Random(seed);
        var x = new float[blocks * blockSize];
        for (int b = 0; b < blocks; b++)
        {
            float magnitude = MathF.Pow(10, (float)(random.NextDouble() * 9 - 6));
            for (int j = 0; j < blockSize; j++)
            {
                float v = (float)(random.NextDouble() * 2 - 1) * magnitude;
                x[b * blockSize + j] = (b % 7) switch
                {
                    1 => 0f,
                    2 => 0.75f,                            // halfway between the codes for 0.5 and 1 once scaled
                    3 => j % 3 == 0 ? v : MathF.Round(v), // many exact ties at integer steps
                    _ => v,
                };
            }
        }
        return x;
    }

    [Trait("Oracle", "llama.cpp")]
    [Theory]
    [InlineData(GgmlType.MXFP4)]
    [InlineData(GgmlType.NVFP4)]
    public void Quantized_Bytes_Equal_Ggmls_Reference_Quantizer(GgmlType type)
    {
        int blockSize = GgmlTypeInfo.BlockSize(type);
        for (int seed = 0; seed < 20; seed++)
        {
            var x = Values(21, blockSize, seed);
            var ours = new byte[GgmlTypeInfo.RowByteSize(type, x.Length)];
            TensorCodec.QuantizeRow(type, x, ours);
            Assert.Equal(GgmlTypeTraits.Quantize(type, x), ours);
        }
    }

    [Trait("Oracle", "llama.cpp")]
    [Theory]
    [InlineData(GgmlType.MXFP4)]
    [InlineData(GgmlType.NVFP4)]
    public void Decoded_Values_Equal_Ggmls_For_Every_Scale_Byte(GgmlType type)
    {
        // Scale bytes sweep all 256 values (including UE4M3's 0x7F NaN and the ignored top bit); codes are random.
        int blockSize = GgmlTypeInfo.BlockSize(type), blockBytes = GgmlTypeInfo.BytesPerBlock(type);
        int scalesPerBlock = type == GgmlType.NVFP4 ? Nvfp4.SubBlocks : 1;
        int blocks = 256 / scalesPerBlock;
        var bytes = new byte[blocks * blockBytes];
        new Random(1).NextBytes(bytes);
        for (int b = 0; b < blocks; b++)
            for (int s = 0; s < scalesPerBlock; s++) bytes[b * blockBytes + s] = (byte)(b * scalesPerBlock + s);
        GgmlCodecParity.AssertDecodedEqual(type, bytes);
    }

    [Fact]
    public void E2M1_Codes_Are_Sign_Two_Exponent_Bits_And_One_Mantissa_Bit()
    {
        for (int code = 0; code < 16; code++)
        {
            int exponent = (code >> 1) & 3, mantissa = code & 1;
            double value = exponent == 0 ? mantissa * 0.5 : (1 + mantissa * 0.5) * Math.Pow(2, exponent - 1);
            if ((code & 8) != 0) value = -value;
            Assert.Equal(2 * value, Fp4.DoubledValues[code]);
        }
    }

    [Fact]
    public void E8M0_Half_Is_Two_To_The_Exponent_Minus_128()
    {
        for (int e = 0; e < 256; e++) Assert.Equal(Math.Pow(2, e - 128), Fp4.E8M0Half((byte)e));
    }

    [Theory]
    [InlineData(0x38, 0.5)]              // exponent 7, mantissa 0: 1.0
    [InlineData(0x7E, 224.0)]            // largest finite UE4M3, 448
    [InlineData(0x03, 3.0 / 1024)]       // subnormal 3·2⁻⁹
    [InlineData(0x7F, 0.0)]              // NaN reads as zero
    [InlineData(0xB8, 0.5)]              // the sign bit is ignored
    [InlineData(0x00, 0.0)]
    public void Ue4m3_Half_Decodes_Known_Codes(int code, double half) => Assert.Equal(half, Fp4.Ue4m3Half((byte)code));

    [Theory]
    [InlineData(1.0f, 0x38)]
    [InlineData(1.0625f, 0x39)]          // halfway between mantissas 0 and 1 rounds up
    [InlineData(300f, 0x7E)]             // needs exponent field 15: saturates, as ggml does
    [InlineData(0.0146f, 0x07)]          // subnormal steps stop at 7·2⁻⁹
    [InlineData(0.0f, 0x00)]
    [InlineData(-1.0f, 0x00)]
    public void Ue4m3_Encoding_Follows_Ggml(float scale, int code) => Assert.Equal((byte)code, Fp4.ToUe4m3(scale));

    [Fact]
    public void Mxfp4_Block_Packs_Element_J_Low_And_J_Plus_16_High()
    {
        // amax = 6 → e = ⌊log₂ 6⌋ − 2 + 127 = 127, half scale 0.5: x = 0.5·doubled value, codes exact.
        var x = new float[32];
        x[0] = 6f; x[16] = -0.5f; x[5] = 1.5f; x[31] = 3f; x[20] = 0.2f; // 0.2 is nearest 0 (0.25 away from 0.5)
        var bytes = new byte[17];
        TensorCodec.QuantizeRow(GgmlType.MXFP4, x, bytes);
        Assert.Equal(127, bytes[0]);
        Assert.Equal(0x7 | 0x9 << 4, bytes[1]);  // 6 → code 7; −0.5 → code 9
        Assert.Equal(0x3, bytes[6]);             // 1.5 → code 3
        Assert.Equal(0x5 << 4, bytes[16]);       // 3 → code 5
        Assert.Equal(0, bytes[5] >> 4);          // 0.2 → 0
        var back = new float[32];
        TensorCodec.DequantizeRow(GgmlType.MXFP4, bytes, back);
        Assert.Equal([6f, -0.5f, 1.5f, 3f, 0f], new[] { back[0], back[16], back[5], back[31], back[20] });
    }

    [Fact]
    public void Nvfp4_Sub_Block_S_Has_Scale_Byte_S_And_Packs_Element_J_With_J_Plus_8()
    {
        var x = new float[64];
        x[16] = 6f;  x[16 + 8] = -3f;  // sub-block 1: amax 6 → scale 1 (0x38)
        x[48 + 7] = 12f;               // sub-block 3: amax 12 → scale 2 (0x40)
        var bytes = new byte[36];
        TensorCodec.QuantizeRow(GgmlType.NVFP4, x, bytes);
        Assert.Equal(new byte[] { 0, 0x38, 0, 0x40 }, bytes[..4]);
        Assert.Equal(0x7 | 0xD << 4, bytes[4 + 8]);   // 6 → code 7, −3 → code 13
        Assert.Equal(0x7, bytes[4 + 24 + 7]);         // 12 = 2·6 → code 7
        var back = new float[64];
        TensorCodec.DequantizeRow(GgmlType.NVFP4, bytes, back);
        Assert.Equal(x, back);
    }
}
