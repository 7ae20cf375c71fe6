using GlmSharp.Tensors;
using GlmSharp.Tests.Oracle;

namespace GlmSharp.Tests.Tensors;

/// <summary>Every block type GlmSharp reads has ggml's type id, block size and block bytes (read from the native library).</summary>
public sealed class GgmlTypeLayoutTests
{
    [Trait("Oracle", "llama.cpp")]
    [Theory]
    [InlineData(GgmlType.MXFP4, "mxfp4")]
    [InlineData(GgmlType.NVFP4, "nvfp4")]
    [InlineData(GgmlType.Q4_1, "q4_1")]
    [InlineData(GgmlType.Q5_0, "q5_0")]
    [InlineData(GgmlType.Q5_1, "q5_1")]
    [InlineData(GgmlType.IQ4_NL, "iq4_nl")]
    [InlineData(GgmlType.Q2_K, "q2_K")]
    [InlineData(GgmlType.Q3_K, "q3_K")]
    [InlineData(GgmlType.IQ4_XS, "iq4_xs")]
    [InlineData(GgmlType.IQ3_S, "iq3_s")]
    [InlineData(GgmlType.IQ3_XXS, "iq3_xxs")]
    [InlineData(GgmlType.IQ2_S, "iq2_s")]
    [InlineData(GgmlType.IQ2_XS, "iq2_xs")]
    [InlineData(GgmlType.IQ2_XXS, "iq2_xxs")]
    [InlineData(GgmlType.IQ1_M, "iq1_m")]
    [InlineData(GgmlType.IQ1_S, "iq1_s")]
    public void Type_Id_And_Block_Layout_Are_Ggmls(GgmlType type, string ggmlName)
    {
        Assert.Equal(ggmlName, GgmlTypeTraits.Name(type));
        Assert.Equal(GgmlTypeTraits.BlockSize(type), GgmlTypeInfo.BlockSize(type));
        Assert.Equal(GgmlTypeTraits.TypeSize(type), GgmlTypeInfo.BytesPerBlock(type));
    }
}
