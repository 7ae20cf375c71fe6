using GlmSharp.Tests.Support;
using GlmSharp.Kernels.Cpu;
using GlmSharp.Tensors;

namespace GlmSharp.Tests.Kernels;

/// <summary>
/// Every SIMD kernel path against the scalar reference (same math, different summation order), and the scalar
/// reference against a double-precision dot of the decoded weights. Sizes cover the tails of every tile: outputs
/// not a multiple of 4, token counts not a multiple of the tile, rows with a partial vector, int8 rows with a
/// partial group of eight blocks.
/// </summary>
public sealed class MatMulKernelTests
{
    public static TheoryData<CpuIsa> SimdPaths() => KernelPaths.Supported(CpuIsa.Portable, CpuIsa.Avx2, CpuIsa.Avx512);

    /// <summary>Every SIMD int8 path this CPU can run, named (the enum is internal), whichever one the ISA prefers.</summary>
    public static TheoryData<string> Int8SimdPaths()
    {
        var data = new TheoryData<string>();
        foreach (var path in Enum.GetValues<Int8Path>())
            if (path != Int8Path.Scalar && Int8Paths.IsSupported(path)) data.Add(path.ToString());
        return data;
    }

    // 70 outputs: one full 64-row panel of the AVX-512 float prefill and a short one.
    private static readonly (int Outputs, int Inputs)[] FloatShapes = [(1, 1), (5, 67), (13, 150), (9, 512), (6, 1000), (70, 96)];
    private static readonly (int Outputs, int Inputs)[] BlockShapes = [(1, 32), (5, 96), (13, 288), (8, 512), (7, 800), (3, 2080)];
    private static readonly int[] TokenCounts = [1, 2, 3, 5, 9, 70]; // 70: more than one prefill token chunk

    private static readonly GgmlType[] LegacyTypes = [GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1, GgmlType.IQ4_NL, GgmlType.MXFP4];



    [Theory]
    [MemberData(nameof(SimdPaths))]
    public void Simd_Path_Matches_Scalar_Reference_For_Every_Type_And_Tail(CpuIsa isa)
    {
        using var simd = new CpuBackend(threads: 2, isa);
        AssertMatchesScalar(simd, [GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q4_0, .. LegacyTypes], isa.ToString());
    }

    [Theory]
    [MemberData(nameof(Int8SimdPaths))]
    public void Int8_Path_Matches_Scalar_Reference_For_Every_Tail(string name)
    {
        var path = Enum.Parse<Int8Path>(name);
        using var simd = new CpuBackend(threads: 2, Int8Paths.MinimumIsa(path), path);
        Assert.Equal(path, simd.Int8);
        AssertMatchesScalar(simd, [GgmlType.Q8_0, GgmlType.Q4_0, .. LegacyTypes], name);
    }

    private static void AssertMatchesScalar(CpuBackend simd, GgmlType[] types, string label)
    {
        foreach (var type in types)
            KernelAgreement.AssertSimdMatchesScalar(simd, type, GgmlTypeInfo.BlockSize(type) == 1 ? FloatShapes : BlockShapes,
                TokenCounts, relative: 1e-4, label);
    }

    /// <summary>
    /// The largest products the formats allow: Q8_0 codes −128 and 127, 4-bit codes 0 and 15, 5-bit codes 0 and 31
    /// (Q5_K's with its largest sub-block scales), IQ4_NL's grid ends −127 and 113, against activation codes ±127 of the sign that makes every product of a block
    /// add up. 16-bit pair sums that saturated (vpmaddubsw on offset Q8_0 codes, or too many 4- or 5-bit sums added
    /// before widening) would fall short of the scalar reference.
    /// </summary>
    [Theory]
    [MemberData(nameof(Int8SimdPaths))]
    public void Int8_Path_Does_Not_Saturate_On_Extreme_Codes(string name)
    {
        var path = Enum.Parse<Int8Path>(name);
        using var simd = new CpuBackend(threads: 1, Int8Paths.MinimumIsa(path), path);
        using var scalar = new CpuBackend(threads: 1, CpuIsa.Scalar);
        // 1 token: the decode dot; 2: Q4_0's few-token decode; 4: the prefill tile (16-bit group sums for 4-bit codes).
        const int outputs = 4, inputs = 512, tokens = 4;
        foreach (var type in (GgmlType[])[GgmlType.Q8_0, GgmlType.Q4_0, .. LegacyTypes, GgmlType.Q5_K])
        {
            using var w = ExtremeMatrix.Create(type, outputs, inputs);
            var x = new float[tokens * inputs];
            for (int t = 0; t < tokens; t++)
                for (int k = 0; k < inputs; k++) x[t * inputs + k] = w.Negative(t % outputs, k) ? -1f : 1f;
            foreach (int n in new[] { 1, 2, tokens })
            {
                var expected = KernelAgreement.Run(scalar, w.View, x, n);
                var actual = KernelAgreement.Run(simd, w.View, x, n);
                for (int i = 0; i < expected.Length; i++)
                    Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-4 * Math.Abs(expected[i]),
                        $"{name} {type} × {n} tokens, output {i}: scalar {expected[i]}, simd {actual[i]}");
            }
        }
    }

    [Fact]
    public void Simd_Int8_Path_On_A_Portable_Backend_Is_Refused()
    {
        var e = Assert.Throws<ArgumentException>(() => new CpuBackend(1, CpuIsa.Portable, Int8Path.Avx2Maddubs));
        Assert.Contains("Avx2Maddubs", e.Message);
    }

    [Theory]
    [InlineData(GgmlType.F32)]
    [InlineData(GgmlType.F16)]
    [InlineData(GgmlType.BF16)]
    public void Scalar_Float_Reference_Equals_Double_Dot_Of_The_Decoded_Weights(GgmlType type)
    {
        using var scalar = new CpuBackend(threads: 1, CpuIsa.Scalar);
        using var w = new TestMatrix(type, 7, 150, seed: 3);
        var x = TestMatrix.RandomActivations(2 * 150, seed: 4);
        var y = KernelAgreement.Run(scalar, w.View, x, 2);
        for (int t = 0; t < 2; t++)
            for (int o = 0; o < 7; o++)
            {
                double dot = 0;
                for (int k = 0; k < 150; k++) dot += (double)w.Decoded[o * 150 + k] * ActivationAsMultiplied(type, x[t * 150 + k]);
                Assert.Equal(dot, y[t * 7 + o], 3);
            }
    }

    /// <summary>F16 and BF16 weights meet activations rounded to their own type (see <see cref="HalfPrecisionActivationTests"/>); F32 the activations as they are.</summary>
    private static double ActivationAsMultiplied(GgmlType type, float x) => type switch
    {
        GgmlType.BF16 => Bf16.ToFloat(Bf16.FromFloat(x)),
        GgmlType.F16 => (float)(Half)x,
        _ => x,
    };

    [Theory]
    [InlineData(GgmlType.Q8_0)]
    [InlineData(GgmlType.Q4_0)]
    [InlineData(GgmlType.Q4_1)]
    [InlineData(GgmlType.Q5_0)]
    [InlineData(GgmlType.Q5_1)]
    [InlineData(GgmlType.IQ4_NL)]
    public void Scalar_Int8_Reference_Equals_Decoded_Dot_Within_Activation_Rounding(GgmlType type) =>
        KernelAgreement.AssertScalarWithinActivationRounding(type, outputs: 6, inputs: 256, activationBlock: 32);

    [Fact]
    public void Unsupported_Weight_Type_Is_Refused_With_The_Tensor_Named()
    {
        using var backend = new CpuBackend(threads: 1);
        unsafe
        {
            var view = new TensorView("blk.0.ffn_up.weight", GgmlType.Q8_K, [1, 256], null, 292, "model.gguf");
            var e = Assert.Throws<GlmSharp.Errors.UnsupportedModelException>(() => backend.MatMul([view], new float[256], 1));
            Assert.Contains("blk.0.ffn_up.weight", e.Message);
        }
    }
}
