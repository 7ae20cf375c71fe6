using GlmSharp.Kernels.Cpu;
using GlmSharp.Tensors;

namespace GlmSharp.Tests.Kernels;

/// <summary>
/// Q2_K / Q3_K / Q4_K / Q5_K / Q6_K matrix products, and those of IQ4_XS / IQ3_XXS / IQ3_S (random blocks, which
/// GlmSharp reads but does not write): every SIMD path (decode and the unpacked prefill tile) against the scalar
/// reference, the reference against the exact dot of the decoded weights within Q8_K activation rounding, and
/// the Q8_K activation quantizer on values worked out by hand.
/// </summary>
public sealed class KQuantKernelTests
{
    private static readonly (int Outputs, int Inputs)[] Shapes = [(1, 256), (5, 512), (7, 768), (13, 1280), (21, 512)];
    private static readonly int[] TokenCounts = [1, 2, 3, 5, 70]; // 70: more than one prefill token chunk

    public static TheoryData<CpuIsa> SimdPaths() => KernelPaths.Supported(CpuIsa.Avx2, CpuIsa.Avx512);


    [Theory]
    [MemberData(nameof(SimdPaths))]
    public void Simd_Decode_And_Prefill_Match_Scalar_Reference(CpuIsa isa)
    {
        using var simd = new CpuBackend(threads: 2, isa);
        // Same integers on both paths; only the float sums over super-blocks are ordered differently.
        foreach (var type in new[] { GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K, GgmlType.Q3_K, GgmlType.Q2_K, GgmlType.IQ4_XS, GgmlType.IQ3_XXS, GgmlType.IQ3_S })
            KernelAgreement.AssertSimdMatchesScalar(simd, type, Shapes, TokenCounts, relative: 1e-5, isa.ToString());
    }

    [Theory]
    [InlineData(GgmlType.Q4_K)]
    [InlineData(GgmlType.Q5_K)]
    [InlineData(GgmlType.Q6_K)]
    [InlineData(GgmlType.Q3_K)]
    [InlineData(GgmlType.Q2_K)]
    [InlineData(GgmlType.IQ2_XXS)]
    [InlineData(GgmlType.IQ2_XS)]
    [InlineData(GgmlType.IQ2_S)]
    [InlineData(GgmlType.IQ1_S)]
    [InlineData(GgmlType.IQ1_M)]
    [InlineData(GgmlType.IQ4_XS)]
    [InlineData(GgmlType.IQ3_XXS)]
    [InlineData(GgmlType.IQ3_S)]
    public void Portable_Path_Multiplies_Decoded_Rows_With_Unrounded_Activations(GgmlType type)
    {
        using var portable = new CpuBackend(threads: 2, CpuIsa.Portable);
        const int outputs = 7, inputs = 512, tokens = 3;
        using var w = new TestMatrix(type, outputs, inputs, seed: 8);
        var x = TestMatrix.RandomActivations(tokens * inputs, seed: 9);
        var y = KernelAgreement.Run(portable, w.View, x, tokens);
        for (int t = 0; t < tokens; t++)
            for (int o = 0; o < outputs; o++)
            {
                double dot = 0;
                for (int k = 0; k < inputs; k++) dot += (double)w.Decoded[o * inputs + k] * x[t * inputs + k];
                Assert.Equal(dot, y[t * outputs + o], 3);
            }
    }

    /// <summary>Each activation is rounded to the step amax/127 of its 256-value block, so at most half a step off.</summary>
    [Theory]
    [InlineData(GgmlType.Q4_K)]
    [InlineData(GgmlType.Q5_K)]
    [InlineData(GgmlType.Q6_K)]
    [InlineData(GgmlType.Q3_K)]
    [InlineData(GgmlType.Q2_K)]
    [InlineData(GgmlType.IQ4_XS)]
    [InlineData(GgmlType.IQ3_XXS)]
    [InlineData(GgmlType.IQ3_S)]
    public void Scalar_Reference_Equals_Decoded_Dot_Within_Q8_K_Activation_Rounding(GgmlType type) =>
        KernelAgreement.AssertScalarWithinActivationRounding(type, outputs: 6, inputs: 512, activationBlock: 256);

    /// <summary>Runs once per SIMD path this CPU has (both use the AVX2 quantizer); no SIMD path is a "no data" failure.</summary>
    [Theory]
    [MemberData(nameof(SimdPaths))]
    public unsafe void Simd_Q8_K_Activation_Quantizer_Is_Bit_Identical_To_The_Reference(CpuIsa isa)
    {
        Assert.True(isa >= CpuIsa.Avx2);
        const int n = 1024;
        var random = new Random(11);
        var x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float)(random.NextDouble() * 6 - 3);
        x[3] = 3.5f; x[9] = -3.5f;                          // block 0: equal magnitudes, the first one sets the sign
        Array.Clear(x, 256, 256);                            // block 1: all zero
        for (int i = 512; i < 768; i++) x[i] = (i % 5 - 2) * 0.5f; // block 2: many values exactly on rounding ties
        var expected = (Q: new sbyte[n], D: new float[n / 256], S: new short[n / 16]);
        var actual = (Q: new sbyte[n], D: new float[n / 256], S: new short[n / 16]);
        Array.Fill(actual.Q, (sbyte)99);
        Array.Fill(actual.S, (short)99);
        fixed (float* xp = x)
        {
            fixed (sbyte* q = expected.Q) fixed (float* d = expected.D) fixed (short* s = expected.S)
                ScalarKQuantKernels.QuantizeActivations(xp, n, q, d, s);
            fixed (sbyte* q = actual.Q) fixed (float* d = actual.D) fixed (short* s = actual.S)
                KQuantKernels.QuantizeActivations(xp, n, q, d, s);
        }
        Assert.Equal(expected.Q, actual.Q);
        Assert.Equal(expected.D, actual.D);
        Assert.Equal(expected.S, actual.S);
    }

    [Fact]
    public unsafe void Q8_K_Activations_Scale_By_The_Signed_Extreme_And_Sum_Each_Sixteen_Codes()
    {
        var x = new float[256];
        x[0] = -2f;    // the extreme is negative: iscale = −127 / −2 = 63.5, d = 1 / 63.5
        x[1] = 1f;     // 63.5 → 64 (ties to even)
        x[17] = 0.5f;  // 31.75 → 32
        x[255] = -1f;  // −63.5 → −64
        var q = new sbyte[256];
        var d = new float[1];
        var sums = new short[16];
        fixed (float* xp = x) fixed (sbyte* qp = q) fixed (float* dp = d) fixed (short* sp = sums)
            ScalarKQuantKernels.QuantizeActivations(xp, 256, qp, dp, sp);
        Assert.Equal(new sbyte[] { -127, 64 }, q[..2]);
        Assert.Equal(32, q[17]);
        Assert.Equal(-64, q[255]);
        Assert.Equal(1f / 63.5f, d[0]);
        Assert.Equal(-127 + 64, sums[0]);
        Assert.Equal(32, sums[1]);
        Assert.Equal(-64, sums[15]);
    }
}
