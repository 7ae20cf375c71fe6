using GlmSharp.Errors;
using GlmSharp.Models;
using GlmSharp.Tensors;
using GlmSharp.Tests.Oracle;

namespace GlmSharp.Tests.Tensors;

/// <summary>
/// IQ4_XS, IQ3_XXS and IQ3_S, which GlmSharp reads but does not write: random blocks (any bit pattern of the index,
/// sign and scale fields, under any finite fp16 d) decode bit for bit as ggml's to_float decodes them.
/// </summary>
public sealed class IqFormatTests
{
    [Theory]
    [InlineData(GgmlType.IQ4_XS)]
    [InlineData(GgmlType.IQ3_XXS)]
    [InlineData(GgmlType.IQ3_S)]
    public void Random_Blocks_Decode_Bit_For_Bit_As_Ggml(GgmlType type)
    {
        var random = new Random((int)type);
        int blocks = 300, blockBytes = GgmlTypeInfo.BytesPerBlock(type);
        var bytes = new byte[blocks * blockBytes];
        random.NextBytes(bytes);
        for (int b = 0; b < blocks; b++)
        {
            // Any finite d: exponent field below all ones, subnormals and zero included.
            ushort d = (ushort)(random.Next(1 << 16) & 0xFBFF);
            BitConverter.TryWriteBytes(bytes.AsSpan(b * blockBytes), d);
        }
        GgmlCodecParity.AssertDecodedEqual(type, bytes);
    }

    [Theory]
    [InlineData(GgmlType.IQ4_XS)]
    [InlineData(GgmlType.IQ3_XXS)]
    [InlineData(GgmlType.IQ3_S)]
    public void Reads_But_Does_Not_Write(GgmlType type)
    {
        Assert.True(TensorCodec.Supports(type));
        Assert.True(GgmlTypeInfo.IsSupported(type));
        Assert.False(TensorCodec.CanQuantize(type));
        var error = Assert.Throws<UnsupportedModelException>(() => QuantizationScheme.Parse(type.ToString()));
        Assert.Contains($"unknown quantization type '{type}'", error.Message);
    }
}
