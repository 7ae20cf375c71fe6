using GlmSharp.Kernels.Cpu;
using GlmSharp.Tensors;
using GlmSharp.Tests.Kernels;

namespace GlmSharp.Tests.Oracle;

/// <summary>
/// The activation quantizer and the scalar reference of Q4_1, Q5_0, Q5_1 and IQ4_NL against ggml-cpu's: activation
/// blocks byte for byte (Q8_1's fp16 sums included), and the row dot within fp32 summation order of ggml's vec_dot.
/// </summary>
[Trait("Oracle", "llama.cpp")]
public sealed unsafe class LegacyDotOracleTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Activation_Blocks_Equal_Ggml_Cpus_Q8_0_And_Q8_1(bool halfSums)
    {
        const int n = 32 * 37;
        var x = TestMatrix.RandomActivations(n, seed: 21);
        for (int j = 64; j < 96; j++) x[j] = 0;
        for (int j = 96; j < 128; j++) x[j] = j % 2 == 0 ? 1e-3f * j : 37.5f;
        var theirs = GgmlCpuKernels.QuantizeActivations(x, halfSums);
        foreach (var isa in new[] { CpuIsa.Scalar, CpuIsa.Avx2 })
        {
            if (!CpuIsaSupport.IsSupported(isa)) continue;
            var (q, scales, sums) = Quantize(x, halfSums, isa);
            int header = halfSums ? 4 : 2;
            for (int b = 0; b < n / 32; b++)
            {
                int o = b * (header + 32);
                Assert.Equal(Fp16.ToFloat(BitConverter.ToUInt16(theirs, o)), scales[b]);
                if (halfSums) Assert.Equal(Fp16.ToFloat(BitConverter.ToUInt16(theirs, o + 2)), sums[b]);
                for (int j = 0; j < 32; j++) Assert.Equal((sbyte)theirs[o + header + j], q[b * 32 + j]);
            }
        }
    }

    [Theory]
    [InlineData(GgmlType.Q4_1, "ggml_vec_dot_q4_1_q8_1")]
    [InlineData(GgmlType.Q5_0, "ggml_vec_dot_q5_0_q8_0")]
    [InlineData(GgmlType.Q5_1, "ggml_vec_dot_q5_1_q8_1")]
    [InlineData(GgmlType.IQ4_NL, "ggml_vec_dot_iq4_nl_q8_0")]
    public void Scalar_Reference_Dot_Equals_Ggml_Cpus_Vec_Dot(GgmlType type, string function)
    {
        bool halfSums = LegacyQuantKernels.UsesHalfSums(type);
        foreach (int n in new[] { 32, 96, 4096, 32 * 113 })
        {
            using var w = new TestMatrix(type, 1, n, seed: n);
            var weights = new byte[GgmlTypeInfo.RowByteSize(type, n)];
            new ReadOnlySpan<byte>(w.View.Data, weights.Length).CopyTo(weights);
            var x = TestMatrix.RandomActivations(n, seed: n + 1);
            float theirs = GgmlCpuKernels.Dot(function, n, weights, GgmlCpuKernels.QuantizeActivations(x, halfSums));
            var (q, scales, sums) = Quantize(x, halfSums, CpuIsa.Scalar);
            float ours;
            fixed (byte* wp = weights)
            fixed (sbyte* qp = q)
            fixed (float* sp = scales, up = sums)
                ours = ScalarLegacyKernels.Dot(type, wp, qp, sp, up, n / 32);
            double magnitude = 0;
            for (int k = 0; k < n; k++) magnitude += Math.Abs(w.Decoded[k] * x[k]);
            Assert.True(Math.Abs(theirs - ours) <= 1e-6 * magnitude, $"{type} n={n}: ggml {theirs}, ours {ours}");
        }
    }

    private static (sbyte[] Codes, float[] Scales, float[] Sums) Quantize(float[] x, bool halfSums, CpuIsa isa)
    {
        var q = new sbyte[x.Length];
        var scales = new float[x.Length / 32];
        var sums = new float[x.Length / 32];
        fixed (float* xp = x, sp = scales, up = sums)
        fixed (sbyte* qp = q)
        {
            if (isa == CpuIsa.Scalar) ScalarKernels.QuantizeActivations(xp, x.Length, qp, sp, up, halfSums);
            else Int8Kernels.QuantizeActivations(xp, x.Length, qp, sp, up, ActivationLayout.Natural, halfSums);
        }
        return (q, scales, sums);
    }
}
