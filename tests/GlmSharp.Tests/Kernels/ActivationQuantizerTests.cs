using GlmSharp.Kernels.Cpu;

namespace GlmSharp.Tests.Kernels;

public sealed unsafe class ActivationQuantizerTests
{
    [Fact]
    public void Scale_Is_Amax_Over_127_And_Codes_Round_Half_To_Even_Like_Ggml_On_X86()
    {
        // amax = 127 → d = 1, codes = round-half-even(x): 2.5 → 2, 3.5 → 4, -2.5 → -2.
        var x = new float[32];
        x[0] = 127; x[1] = 2.5f; x[2] = 3.5f; x[3] = -2.5f; x[4] = -0.4f; x[5] = 100.6f;
        var q = new sbyte[32];
        float scale, sum;
        fixed (float* xp = x)
        fixed (sbyte* qp = q)
            ScalarKernels.QuantizeActivations(xp, 32, qp, &scale, &sum);
        Assert.Equal(1f, scale);
        Assert.Equal(new sbyte[] { 127, 2, 4, -2, 0, 101 }, q[..6]);
        Assert.Equal(127 + 2 + 4 - 2 + 101, sum);
    }

    [Fact]
    public void Simd_Quantizer_Is_Bit_Exact_With_The_Scalar_One_And_Interleaves_Groups()
    {
        if (!CpuIsaSupport.IsSupported(CpuIsa.Avx2)) return;
        const int n = 32 * 11; // one whole group of 8 blocks and a partial one
        var x = TestMatrix.RandomActivations(n, seed: 12);
        x[40] = 0; // ties and zeros are covered by the scalar test; a zero block is covered here
        for (int i = 64; i < 96; i++) x[i] = 0;
        var expectedQ = new sbyte[n];
        var expectedScales = new float[11];
        var expectedSums = new float[11];
        var naturalQ = new sbyte[n];
        var naturalScales = new float[11];
        var naturalSums = new float[11];
        var groupedQ = new sbyte[2 * 256];
        var groupedScales = new float[16];
        var groupedSums = new float[16];
        fixed (float* xp = x)
        fixed (sbyte* eq = expectedQ, nq = naturalQ, gq = groupedQ)
        fixed (float* es = expectedScales, esum = expectedSums, ns = naturalScales, nsum = naturalSums, gs = groupedScales, gsum = groupedSums)
        {
            ScalarKernels.QuantizeActivations(xp, n, eq, es, esum);
            Int8Kernels.QuantizeActivations(xp, n, nq, ns, nsum, ActivationLayout.Natural);
            Int8Kernels.QuantizeActivations(xp, n, gq, gs, gsum, ActivationLayout.Grouped);
        }
        Assert.Equal(expectedQ, naturalQ);
        Assert.Equal(expectedScales, naturalScales);
        Assert.Equal(expectedSums, naturalSums);
        Assert.Equal(expectedScales, groupedScales[..11]);
        for (int b = 0; b < 11; b++)
            for (int j = 0; j < 32; j++)
                Assert.Equal(expectedQ[b * 32 + j], groupedQ[b / 8 * 256 + j / 4 * 32 + b % 8 * 4 + j % 4]);
    }
}
