using GlmSharp.Tests.Support;
using GlmSharp.Kernels.Cpu;
using GlmSharp.Tensors;

namespace GlmSharp.Tests.Kernels;

/// <summary>
/// The two checks every weight type's kernels get: a SIMD backend against the scalar reference (same math, other
/// summation order), and the scalar reference against the exact dot of the decoded weights within the rounding of
/// the activations to 8-bit blocks.
/// </summary>
internal static class KernelAgreement
{
    public static float[] Run(CpuBackend backend, TensorView w, float[] x, int tokens)
    {
        return backend.MatMul([w], x, tokens);
    }

    /// <summary>
    /// The scalar reference's outputs for <paramref name="w"/>, after checking that each SIMD output is within
    /// 1e-6·<paramref name="magnitude"/> (a bound on Σ|w·x|, for outputs that cancel) + 1e-5·|scalar| of it.
    /// </summary>
    public static float[] AssertSimdMatchesScalar(CpuBackend scalar, CpuBackend simd, TensorView w, float[] x, int tokens, double magnitude, string label)
    {
        var expected = Run(scalar, w, x, tokens);
        var actual = Run(simd, w, x, tokens);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-6 * magnitude + 1e-5 * Math.Abs(expected[i]),
                $"{label} × {tokens} tokens, output {i}: scalar {expected[i]}, simd {actual[i]}");
        return expected;
    }

    /// <summary>
    /// Each output within 1e-5·inputs + <paramref name="relative"/>·|scalar| of the scalar reference; with
    /// <paramref name="prepared"/> the SIMD backend multiplies its own <see cref="CpuBackend.PrepareMatrix"/> of the weights.
    /// </summary>
    public static void AssertSimdMatchesScalar(CpuBackend simd, GgmlType type, IEnumerable<(int Outputs, int Inputs)> shapes,
        IEnumerable<int> tokenCounts, double relative, string label, bool prepared = false)
    {
        using var scalar = new CpuBackend(threads: 1, CpuIsa.Scalar);
        foreach (var (outputs, inputs) in shapes)
            foreach (int tokens in tokenCounts)
            {
                using var w = new TestMatrix(type, outputs, inputs, seed: outputs * 31 + inputs);
                var x = TestMatrix.RandomActivations(tokens * inputs, seed: tokens);
                var expected = Run(scalar, w.View, x, tokens);
                var actual = Run(simd, prepared ? simd.PrepareMatrix(w.View) : w.View, x, tokens);
                for (int i = 0; i < expected.Length; i++)
                {
                    double bound = 1e-5 * inputs + relative * Math.Abs(expected[i]);
                    Assert.True(Math.Abs(expected[i] - actual[i]) <= bound,
                        $"{label} {type} [{outputs},{inputs}] × {tokens} tokens, output {i}: scalar {expected[i]}, simd {actual[i]}");
                }
            }
    }

    /// <summary>
    /// Each activation is rounded to the step amax/127 of its <paramref name="activationBlock"/>-value block, so at
    /// most half a step off (plus the fp16 rounding of the step); within that the scalar reference is the exact dot.
    /// Types with a minimum m (Q4_1, Q5_1) also meet each block's activation sum s rounded to fp16, as llama.cpp's
    /// Q8_1 blocks store it: up to |m·s|·2⁻¹¹ more per block, and |m| is at most the block's largest decoded magnitude
    /// (the block's smallest value gets code 0 and decodes to m).
    /// </summary>
    public static void AssertScalarWithinActivationRounding(GgmlType type, int outputs, int inputs, int activationBlock)
    {
        using var scalar = new CpuBackend(threads: 1, CpuIsa.Scalar);
        using var w = new TestMatrix(type, outputs, inputs, seed: 5);
        var x = TestMatrix.RandomActivations(inputs, seed: 6);
        var y = Run(scalar, w.View, x, 1);
        for (int o = 0; o < outputs; o++)
        {
            double dot = 0, bound = 0;
            for (int k = 0; k < inputs; k++)
            {
                dot += (double)w.Decoded[o * inputs + k] * x[k];
                double step = x.Skip(k / activationBlock * activationBlock).Take(activationBlock).Max(Math.Abs) / 127;
                bound += Math.Abs(w.Decoded[o * inputs + k]) * step * (0.5 + 1e-3);
            }
            if (LegacyQuantKernels.UsesHalfSums(type))
                for (int b = 0; b < inputs / 32; b++)
                {
                    var block = Enumerable.Range(o * inputs + b * 32, 32);
                    bound += block.Max(i => Math.Abs(w.Decoded[i])) * Math.Abs(block.Sum(i => (double)x[i - o * inputs])) * Math.Pow(2, -11);
                }
            Assert.True(Math.Abs(dot - y[o]) <= bound + 1e-4, $"{type} row {o}: exact {dot}, int8 {y[o]}, bound {bound}");
            Assert.NotEqual(0, dot);
        }
    }
}
