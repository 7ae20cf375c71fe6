using GlmSharp.Kernels.Cpu;
using GlmSharp.Tensors;
using GlmSharp.Tests.Kernels;

namespace GlmSharp.Tests.Oracle;

/// <summary>
/// The Q8_K activation quantizer and the scalar references of Q3_K, Q2_K, IQ4_XS, IQ3_XXS and IQ3_S (random blocks)
/// against ggml-cpu's: activation blocks field for field (quantize_row_q8_K), and the row dot within fp32 summation
/// order of ggml_vec_dot_&lt;type&gt;_q8_K on the same blocks.
/// </summary>
[Trait("Oracle", "llama.cpp")]
public sealed unsafe class LowBitKQuantDotOracleTests
{
    [Theory]
    [InlineData(GgmlType.Q3_K, "ggml_vec_dot_q3_K_q8_K")]
    [InlineData(GgmlType.Q2_K, "ggml_vec_dot_q2_K_q8_K")]
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
            x[3] = 0;
            var activations = GgmlCpuKernels.QuantizeQ8K(x);
            float theirs = GgmlCpuKernels.Dot(function, n, weights, activations);

            var q = new sbyte[n];
            var d = new float[n / 256];
            var sums = new short[n / 16];
            fixed (float* xp = x) fixed (sbyte* qp = q) fixed (float* dp = d) fixed (short* sp = sums)
                ScalarKQuantKernels.QuantizeActivations(xp, n, qp, dp, sp);
            for (int b = 0; b < n / 256; b++)
            {
                int o = b * GgmlCpuKernels.Q8KBlockBytes;
                Assert.Equal(BitConverter.ToSingle(activations, o), d[b]);
                for (int j = 0; j < 256; j++) Assert.Equal((sbyte)activations[o + 4 + j], q[b * 256 + j]);
                for (int g = 0; g < 16; g++) Assert.Equal(BitConverter.ToInt16(activations, o + 260 + 2 * g), sums[b * 16 + g]);
            }

            float ours;
            fixed (byte* wp = weights) fixed (sbyte* qp = q) fixed (float* dp = d) fixed (short* sp = sums)
                ours = type switch
                {
                    GgmlType.Q3_K => ScalarLowBitKQuantKernels.DotQ3_K(wp, qp, dp, n / 256),
                    GgmlType.Q2_K => ScalarLowBitKQuantKernels.DotQ2_K(wp, qp, dp, sp, n / 256),
                    _ => ScalarIqSubBlockKernels.Dot(type, wp, qp, dp, n / 256),
                };
            double magnitude = 0;
            for (int k = 0; k < n; k++) magnitude += Math.Abs(w.Decoded[k] * x[k]);
            Assert.True(Math.Abs(theirs - ours) <= 1e-6 * magnitude, $"{type} n={n}: ggml {theirs}, ours {ours}");
        }
    }
}
