using GlmSharp.Kernels.Cpu;
using GlmSharp.Tensors;
using GlmSharp.Tests.Kernels;

namespace GlmSharp.Tests.Oracle;

/// <summary>
/// The scalar references of IQ4_XS, IQ3_XXS and IQ3_S against ggml-cpu's ggml_vec_dot_iq*_q8_K on the same random
/// blocks and the same Q8_K activation blocks (<see cref="LowBitKQuantDotOracleTests"/> checks those field for
/// field): equal within fp32 summation order.
/// </summary>
[Trait("Oracle", "llama.cpp")]
public sealed unsafe class IqDotOracleTests
{
    [Theory]
    [InlineData(GgmlType.IQ4_XS, "ggml_vec_dot_iq4_xs_q8_K")]
    [InlineData(GgmlType.IQ3_XXS, "ggml_vec_dot_iq3_xxs_q8_K")]
    [InlineData(GgmlType.IQ3_S, "ggml_vec_dot_iq3_s_q8_K")]
    public void Scalar_Reference_Dot_Equals_Ggml_Cpus_Vec_Dot(GgmlType type, string function)
    {
        foreach (int n in new[] { 256, 512, 256 * 13 })
        {
            using var w = new TestMatrix(type, 1, n, seed: n);
            var weights = new byte[GgmlTypeInfo.RowByteSize(type, n)];
            new ReadOnlySpan<byte>(w.View.Data, weights.Length).CopyTo(weights);
            var x = TestMatrix.RandomActivations(n, seed: n + 1);
            float theirs = GgmlCpuKernels.Dot(function, n, weights, GgmlCpuKernels.QuantizeQ8K(x));

            var q = new sbyte[n];
            var d = new float[n / 256];
            var sums = new short[n / 16];
            float ours;
            fixed (float* xp = x) fixed (sbyte* qp = q) fixed (float* dp = d) fixed (short* sp = sums) fixed (byte* wp = weights)
            {
                ScalarKQuantKernels.QuantizeActivations(xp, n, qp, dp, sp);
                ours = ScalarIqSubBlockKernels.Dot(type, wp, qp, dp, n / 256);
            }
            double magnitude = 0;
            for (int k = 0; k < n; k++) magnitude += Math.Abs(w.Decoded[k] * x[k]);
            Assert.True(Math.Abs(theirs - ours) <= 1e-6 * magnitude, $"{type} n={n}: ggml {theirs}, ours {ours}");
            Assert.NotEqual(0f, theirs);
        }
    }
}
