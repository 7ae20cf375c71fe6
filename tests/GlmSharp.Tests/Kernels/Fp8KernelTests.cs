using System.Runtime.InteropServices;
using GlmSharp.Kernels.Cpu;
using GlmSharp.Tensors;
using GlmSharp.Tests.Support;

namespace GlmSharp.Tests.Kernels;

/// <summary>
/// Block-scaled FP8 matrices: every SIMD path against the scalar reference, and the scalar reference against the
/// double-precision dot of the real weights (OCP value × block scale). Shapes have partial scale blocks in both
/// directions, rows not a multiple of 8 bytes, and F32 as well as BF16 scales.
/// </summary>
public sealed unsafe class Fp8KernelTests
{
    private sealed class Fp8Matrix : IDisposable
    {
        private readonly byte* _codes;
        private readonly byte* _scales;
        public TensorView View { get; }
        public double[] Real { get; }

        public Fp8Matrix(int outputs, int inputs, int blockRows, int blockColumns, bool bf16Scales, int seed)
        {
            var random = new Random(seed);
            int scaleRows = (outputs + blockRows - 1) / blockRows, scaleColumns = (inputs + blockColumns - 1) / blockColumns;
            _codes = (byte*)NativeMemory.Alloc((nuint)(outputs * inputs));
            _scales = (byte*)NativeMemory.Alloc((nuint)(scaleRows * scaleColumns * 4));
            var scales = new float[scaleRows * scaleColumns];
            for (int i = 0; i < scales.Length; i++)
            {
                float s = (float)(random.NextDouble() * 1e-3 + 1e-4);
                scales[i] = bf16Scales ? Bf16.ToFloat(Bf16.FromFloat(s)) : s;
                if (bf16Scales) ((ushort*)_scales)[i] = Bf16.FromFloat(s);
                else ((float*)_scales)[i] = s;
            }
            Real = new double[outputs * inputs];
            for (int i = 0; i < Real.Length; i++)
            {
                byte code;
                do code = (byte)random.Next(256); while ((code & 0x7F) == 0x7F);
                _codes[i] = code;
                Real[i] = E4M3Definition.Value(code) * scales[i / inputs / blockRows * scaleColumns + i % inputs / blockColumns];
            }
            var scaleView = new TensorView("test.weight_scale_inv", bf16Scales ? GgmlType.BF16 : GgmlType.F32, [scaleRows, scaleColumns],
                _scales, scales.Length * (bf16Scales ? 2 : 4), "test");
            View = new TensorView("test.weight", GgmlType.F8_E4M3, [outputs, inputs], _codes, outputs * inputs, "test")
            {
                Scales = new BlockScales(scaleView, blockRows, blockColumns),
            };
        }

        public void Dispose()
        {
            NativeMemory.Free(_codes);
            NativeMemory.Free(_scales);
        }
    }

    private static readonly (int Outputs, int Inputs, int BlockRows, int BlockColumns, bool Bf16)[] Shapes =
        [(1, 7, 128, 128, false), (5, 200, 128, 128, true), (13, 300, 128, 128, false), (9, 333, 4, 48, true), (130, 256, 128, 128, false)];

    private static float[] Run(CpuBackend backend, TensorView w, float[] x, int tokens)
    {
        return backend.MatMul([w], x, tokens);
    }

    [Theory]
    [MemberData(nameof(MatMulKernelTests.SimdPaths), MemberType = typeof(MatMulKernelTests))]
    public void Simd_Path_Matches_Scalar_Reference_For_Every_Tail(CpuIsa isa)
    {
        using var simd = new CpuBackend(threads: 2, isa);
        using var scalar = new CpuBackend(threads: 1, CpuIsa.Scalar);
        foreach (var (outputs, inputs, blockRows, blockColumns, bf16) in Shapes)
            foreach (int tokens in new[] { 1, 2, 5, 9 })
            {
                using var w = new Fp8Matrix(outputs, inputs, blockRows, blockColumns, bf16, seed: outputs + inputs);
                var x = TestMatrix.RandomActivations(tokens * inputs, seed: tokens);
                var expected = Run(scalar, w.View, x, tokens);
                var actual = Run(simd, w.View, x, tokens);
                for (int i = 0; i < expected.Length; i++)
                    Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-5 * inputs * 0.05 + 1e-4 * Math.Abs(expected[i]),
                        $"{isa} [{outputs},{inputs}] blocks {blockRows}×{blockColumns} × {tokens} tokens, output {i}: scalar {expected[i]}, simd {actual[i]}");
            }
    }

    [Fact]
    public void Scalar_Reference_Equals_Double_Dot_Of_Value_Times_Block_Scale()
    {
        using var scalar = new CpuBackend(threads: 1, CpuIsa.Scalar);
        using var w = new Fp8Matrix(9, 333, 4, 48, bf16Scales: true, seed: 2);
        var x = TestMatrix.RandomActivations(2 * 333, seed: 3);
        var y = Run(scalar, w.View, x, 2);
        for (int t = 0; t < 2; t++)
            for (int o = 0; o < 9; o++)
            {
                double dot = 0, magnitude = 0;
                for (int k = 0; k < 333; k++)
                {
                    dot += w.Real[o * 333 + k] * x[t * 333 + k];
                    magnitude += Math.Abs(w.Real[o * 333 + k] * x[t * 333 + k]);
                }
                Assert.True(Math.Abs(dot - y[t * 9 + o]) <= 1e-6 * magnitude, $"row {o} token {t}: exact {dot}, ours {y[t * 9 + o]}");
            }
    }

    [Fact]
    public void Row_Dequantization_Applies_The_Block_Scales()
    {
        using var w = new Fp8Matrix(9, 333, 4, 48, bf16Scales: false, seed: 4);
        var row = new float[333];
        for (int r = 0; r < 9; r++)
        {
            Fp8E4M3.DequantizeRow(w.View, r, row);
            for (int k = 0; k < 333; k++) Assert.Equal((float)w.Real[r * 333 + k], row[k]);
        }
    }
}
