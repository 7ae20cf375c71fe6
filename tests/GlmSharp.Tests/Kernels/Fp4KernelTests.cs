using GlmSharp.Kernels.Cpu;
using GlmSharp.Tensors;

namespace GlmSharp.Tests.Kernels;

/// <summary>
/// MXFP4 / NVFP4 kernels: the AVX2 decode and prefill paths against the scalar reference, and the scalar reference
/// against the exact dot of the decoded weights. Shapes have odd block counts, outputs not a multiple of the
/// four-row tile and token counts not a multiple of two.
/// </summary>
public sealed class Fp4KernelTests
{
    public static TheoryData<CpuIsa, GgmlType> PathsAndTypes()
    {
        var data = new TheoryData<CpuIsa, GgmlType>();
        foreach (var isa in new[] { CpuIsa.Portable, CpuIsa.Avx2, CpuIsa.Avx512 })
            if (CpuIsaSupport.IsSupported(isa))
                foreach (var type in new[] { GgmlType.MXFP4, GgmlType.NVFP4 }) data.Add(isa, type);
        return data;
    }

    private static (int Outputs, int Inputs)[] Shapes(GgmlType type)
    {
        int block = GgmlTypeInfo.BlockSize(type);
        return [(1, block), (5, 3 * block), (13, 9 * block), (8, 16 * block), (7, 25 * block)];
    }

    private static float[] Run(CpuBackend backend, TestMatrix w, float[] x, int tokens)
    {
        var y = new float[tokens * (int)w.View.Shape[0]];
        backend.MatMul(w.View, x, y, tokens);
        return y;
    }

    [Theory]
    [MemberData(nameof(PathsAndTypes))]
    public void Simd_Path_Matches_Scalar_Reference_For_Every_Tail(CpuIsa isa, GgmlType type)
    {
        using var simd = new CpuBackend(threads: 2, isa);
        using var scalar = new CpuBackend(threads: 1, CpuIsa.Scalar);
        foreach (var (outputs, inputs) in Shapes(type))
            foreach (int tokens in new[] { 1, 2, 3, 5, 9 })
            {
                using var w = new TestMatrix(type, outputs, inputs, seed: outputs * 31 + inputs);
                var x = TestMatrix.RandomActivations(tokens * inputs, seed: tokens);
                var expected = Run(scalar, w, x, tokens);
                var actual = Run(simd, w, x, tokens);
                for (int i = 0; i < expected.Length; i++)
                {
                    double bound = 1e-5 * inputs + 1e-5 * Math.Abs(expected[i]);
                    Assert.True(Math.Abs(expected[i] - actual[i]) <= bound,
                        $"{isa} {type} [{outputs},{inputs}] × {tokens} tokens, output {i}: scalar {expected[i]}, simd {actual[i]}");
                }
            }
    }

    /// <summary>The activations are rounded to 8-bit blocks (at most half a step of amax/127 per element, plus the
    /// fp16 rounding of the step); within that, the result is the exact dot of the decoded weights.</summary>
    [Theory]
    [InlineData(GgmlType.MXFP4)]
    [InlineData(GgmlType.NVFP4)]
    public void Scalar_Reference_Equals_Decoded_Dot_Within_Activation_Rounding(GgmlType type)
    {
        using var scalar = new CpuBackend(threads: 1, CpuIsa.Scalar);
        const int outputs = 6, inputs = 320;
        using var w = new TestMatrix(type, outputs, inputs, seed: 5);
        var x = TestMatrix.RandomActivations(inputs, seed: 6);
        var y = Run(scalar, w, x, 1);
        for (int o = 0; o < outputs; o++)
        {
            double dot = 0, bound = 0;
            for (int k = 0; k < inputs; k++)
            {
                dot += (double)w.Decoded[o * inputs + k] * x[k];
                double amax = x.Skip(k / 32 * 32).Take(32).Max(Math.Abs);
                bound += Math.Abs(w.Decoded[o * inputs + k]) * (amax / 127 / 2 + amax / 127 * 1e-3);
            }
            Assert.True(Math.Abs(dot - y[o]) <= bound + 1e-4, $"{type} row {o}: exact {dot}, int8 {y[o]}, bound {bound}");
            Assert.NotEqual(0, dot);
        }
    }
}
