using GlmSharp.Kernels.Cpu;
using GlmSharp.Tensors;

namespace GlmSharp.Tests.Kernels;

/// <summary>
/// F16 and BF16 weights meet activations rounded to their own type, as in llama.cpp (its vec_dot_type for F16 and
/// BF16 weights), on every path. A weight of 1 against an activation just above 1 that the type cannot hold gives
/// exactly 1: 1 + 2⁻¹⁰ in BF16 (8 significant bits), 1 + 2⁻¹² in F16 (11).
/// </summary>
public sealed class HalfPrecisionActivationTests
{
    public static TheoryData<CpuIsa> Paths() => KernelPaths.Supported(Enum.GetValues<CpuIsa>());

    [Theory]
    [MemberData(nameof(Paths))]
    public void Activations_Are_Rounded_To_The_Weight_Type_In_Decode_And_Prefill(CpuIsa isa)
    {
        const int inputs = 64, outputs = 3;
        using var backend = new CpuBackend(threads: 2, isa);
        foreach (var (type, justAboveOne) in new[] { (GgmlType.BF16, 1f + 1f / 1024), (GgmlType.F16, 1f + 1f / 4096) })
        {
            using var w = new UnitDiagonal(type, inputs, outputs);
            foreach (int tokens in new[] { 1, 20 })
            {
                var x = Enumerable.Repeat(justAboveOne, tokens * inputs).ToArray();
                var y = KernelAgreement.Run(backend, w.View, x, tokens);
                Assert.All(y, value => Assert.Equal(1f, value));
            }
        }
    }

    /// <summary>Weights with a single 1 per row (row r at column r), zeros elsewhere.</summary>
    private sealed unsafe class UnitDiagonal : IDisposable
    {
        private readonly ushort* _data;

        public TensorView View { get; }

        public UnitDiagonal(GgmlType type, int inputs, int outputs)
        {
            _data = (ushort*)System.Runtime.InteropServices.NativeMemory.AllocZeroed((nuint)(inputs * outputs), sizeof(ushort));
            ushort one = type == GgmlType.BF16 ? Bf16.FromFloat(1f) : BitConverter.HalfToUInt16Bits((Half)1f);
            for (int r = 0; r < outputs; r++) _data[r * inputs + r] = one;
            View = new TensorView("unit.weight", type, [outputs, inputs], (byte*)_data, (long)inputs * outputs * sizeof(ushort), "test");
        }

        public void Dispose() => System.Runtime.InteropServices.NativeMemory.Free(_data);
    }
}
