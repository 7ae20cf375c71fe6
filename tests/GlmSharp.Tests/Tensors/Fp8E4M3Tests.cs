using GlmSharp.Formats.Gguf;
using GlmSharp.Tensors;
using GlmSharp.Tests.Support;

namespace GlmSharp.Tests.Tensors;

public sealed class Fp8E4M3Tests
{
    [Fact]
    public void Every_Code_Decodes_As_The_Ocp_Definition_Says()
    {
        for (int code = 0; code < 256; code++)
        {
            double expected = E4M3Definition.Value((byte)code);
            float actual = Fp8E4M3.ToFloat((byte)code);
            if (double.IsNaN(expected)) Assert.True(float.IsNaN(actual), $"code 0x{code:X2} should be NaN, got {actual}");
            else Assert.True(expected == actual, $"code 0x{code:X2}: expected {expected}, got {actual}");
        }
    }

    [Fact]
    public void Only_S_1111_111_Is_NaN_There_Are_No_Infinities_And_The_Maximum_Is_448()
    {
        var nans = Enumerable.Range(0, 256).Where(c => float.IsNaN(Fp8E4M3.ToFloat((byte)c))).ToArray();
        Assert.Equal([0x7F, 0xFF], nans);
        Assert.DoesNotContain(Enumerable.Range(0, 256), c => float.IsInfinity(Fp8E4M3.ToFloat((byte)c)));
        Assert.Equal(448f, Fp8E4M3.ToFloat(0x7E));
        Assert.Equal(-448f, Fp8E4M3.ToFloat(0xFE));
        Assert.Equal(448f, Enumerable.Range(0, 256).Select(c => Fp8E4M3.ToFloat((byte)c)).Where(v => !float.IsNaN(v)).Max());
        Assert.Equal(MathF.Pow(2, -9), Fp8E4M3.ToFloat(0x01)); // smallest subnormal
        Assert.Equal(MathF.Pow(2, -6), Fp8E4M3.ToFloat(0x08)); // smallest normal
    }

    [Fact]
    public void Gguf_Writer_Refuses_Block_Scaled_Fp8()
    {
        var writer = new GgufWriter();
        var e = Assert.Throws<ArgumentException>(() => writer.AddTensor("w", GgmlType.F8_E4M3, [2, 2], new byte[4]));
        Assert.Contains("F8_E4M3", e.Message);
        Assert.False(GgmlTypeInfo.IsGgufType(GgmlType.F8_E4M3));
    }
}
