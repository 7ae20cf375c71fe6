using GlmSharp.Kernels.Cpu;
using GlmSharp.Tensors;

namespace GlmSharp.Tests.Kernels;

/// <summary>
/// BF16 weights meet activations rounded to BF16, as in llama.cpp (its vec_dot_type for BF16 weights is BF16), on
/// every path: 1 + 2⁻¹⁰ is not a BF16 value (8 mantissa bits) and rounds to 1, so a weight of 1 gives exactly 1.
/// </summary>
public sealed class Bf16ActivationTests
{
    public static TheoryData<CpuIsa> Paths() => KernelPaths.Supported(Enum.GetValues<CpuIsa>());

    [Theory]
    [MemberData(nameof(Paths))]
    public void Activations_Are_Rounded_To_Bf16_In_Decode_And_Prefill(CpuIsa isa)
    {
        const int inputs = 64, outputs = 3;
        using var backend = new CpuBackend(threads: 2, isa);
        using var w = new UnitDiagonal(inputs, outputs);
        foreach (int tokens in new[] { 1, 20 })
        {
            var x = Enumerable.Repeat(1f + 1f / 1024, tokens * inputs).ToArray();
            var y = KernelAgreement.Run(backend, w.View, x, tokens);
            Assert.All(y, value => Assert.Equal(1f, value));
        }
    }

    /// <summary>BF16 weights with a single 1 per row (row r at column r), zeros elsewhere.</summary>
    private sealed unsafe class UnitDiagonal : IDisposable
    {
        private readonly ushort* _data;

        public TensorView View { get; }

        public UnitDiagonal(int inputs, int outputs)
        {
            _data = (ushort*)System.Runtime.InteropServices.NativeMemory.AllocZeroed((nuint)(inputs * outputs), sizeof(ushort));
            for (int r = 0; r < outputs; r++) _data[r * inputs + r] = Bf16.FromFloat(1f);
            View = new TensorView("unit.weight", GgmlType.BF16, [outputs, inputs], (byte*)_data, (long)inputs * outputs * sizeof(ushort), "test");
        }

        public void Dispose() => System.Runtime.InteropServices.NativeMemory.Free(_data);
    }
}
