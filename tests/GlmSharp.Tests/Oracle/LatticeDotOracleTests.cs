using GlmSharp.Kernels.Cpu;
using GlmSharp.Tensors;
using GlmSharp.Tests.Kernels;

namespace GlmSharp.Tests.Oracle;

/// <summary>
/// The scalar references of the lattice types against ggml-cpu's ggml_vec_dot_&lt;type&gt;_q8_K on the same random
/// blocks and the same Q8_K activations (<see cref="LowBitKQuantDotOracleTests"/> checks those field for field):
/// integer sums are exact on both sides, so they agree within fp32 summation order.
/// </summary>
[Trait("Oracle", "llama.cpp")]
public sealed unsafe class LatticeDotOracleTests
{
    [Theory]
    [InlineData(GgmlType.IQ2_XXS, "ggml_vec_dot_iq2_xxs_q8_K")]
    [InlineData(GgmlType.IQ2_XS, "ggml_vec_dot_iq2_xs_q8_K")]
    [InlineData(GgmlType.IQ2_S, "ggml_vec_dot_iq2_s_q8_K")]
    [InlineData(GgmlType.IQ1_S, "ggml_vec_dot_iq1_s_q8_K")]
    [InlineData(GgmlType.IQ1_M, "ggml_vec_dot_iq1_m_q8_K")]
    public void Scalar_Reference_Dot_Equals_Ggml_Cpus_Vec_Dot(GgmlType type, string function)
    {
        foreach (int n in new[] { 256, 512, 256 * 13 })
            for (int seed = 0; seed < 4; seed++)
            {
                using var w = new TestMatrix(type, 1, n, seed: n + seed);
                var weights = new byte[GgmlTypeInfo.RowByteSize(type, n)];
                new ReadOnlySpan<byte>(w.View.Data, weights.Length).CopyTo(weights);
                var x = TestMatrix.RandomActivations(n, seed: n + seed + 1);
                float theirs = GgmlCpuKernels.Dot(function, n, weights, GgmlCpuKernels.QuantizeQ8K(x));

                var q = new sbyte[n];
                var d = new float[n / 256];
                var sums = new short[n / 16];
                float ours;
                fixed (float* xp = x) fixed (sbyte* qp = q) fixed (float* dp = d) fixed (short* sp = sums) fixed (byte* wp = weights)
                {
                    ScalarKQuantKernels.QuantizeActivations(xp, n, qp, dp, sp);
                    ours = ScalarIqKernels.Dot(type, wp, qp, dp, n / 256);
                }
                double magnitude = 0;
                for (int k = 0; k < n; k++) magnitude += Math.Abs(w.Decoded[k] * x[k]);
                Assert.True(Math.Abs(theirs - ours) <= 1e-6 * magnitude, $"{type} n={n} seed {seed}: ggml {theirs}, ours {ours}");
            }
    }
}
