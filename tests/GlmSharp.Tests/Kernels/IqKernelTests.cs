using System.Runtime.InteropServices;
using GlmSharp.Kernels.Cpu;
using GlmSharp.Tensors;

namespace GlmSharp.Tests.Kernels;

/// <summary>
/// IQ4_XS, IQ3_XXS and IQ3_S matrix products on random blocks: every SIMD path (decode and the int8 prefill tile)
/// against the scalar reference, the reference against the exact dot of the decoded weights within Q8_K activation
/// rounding, the portable path's decoded rows, and blocks of the formats' extreme codes and scales.
/// </summary>
public sealed unsafe class IqKernelTests
{
    private static readonly (int Outputs, int Inputs)[] Shapes = [(1, 256), (5, 512), (7, 768), (13, 1280), (21, 512)];
    private static readonly int[] TokenCounts = [1, 2, 3, 5, 70]; // 70: more than one prefill token chunk

    public static TheoryData<CpuIsa> SimdPaths() => KernelPaths.Supported(CpuIsa.Avx2, CpuIsa.Avx512);

    public static TheoryData<GgmlType> Types() => [GgmlType.IQ4_XS, GgmlType.IQ3_XXS, GgmlType.IQ3_S];

    [Theory]
    [MemberData(nameof(SimdPaths))]
    public void Simd_Decode_And_Prefill_Match_Scalar_Reference(CpuIsa isa)
    {
        using var simd = new CpuBackend(threads: 2, isa);
        foreach (var type in new[] { GgmlType.IQ4_XS, GgmlType.IQ3_XXS, GgmlType.IQ3_S })
            KernelAgreement.AssertSimdMatchesScalar(simd, type, Shapes, TokenCounts, relative: 1e-5, isa.ToString());
    }

    /// <summary>Each activation is rounded to the step amax/127 of its 256-value block, so at most half a step off.</summary>
    [Theory]
    [MemberData(nameof(Types))]
    public void Scalar_Reference_Equals_Decoded_Dot_Within_Q8_K_Activation_Rounding(GgmlType type) =>
        KernelAgreement.AssertScalarWithinActivationRounding(type, outputs: 6, inputs: 512, activationBlock: 256);

    [Theory]
    [MemberData(nameof(Types))]
    public void Portable_Path_Multiplies_Decoded_Rows_With_Unrounded_Activations(GgmlType type)
    {
        using var portable = new CpuBackend(threads: 2, CpuIsa.Portable);
        const int outputs = 7, inputs = 512, tokens = 3;
        using var w = new TestMatrix(type, outputs, inputs, seed: 8);
        var x = TestMatrix.RandomActivations(tokens * inputs, seed: 9);
        var y = KernelAgreement.Run(portable, w.View, x, tokens);
        for (int t = 0; t < tokens; t++)
            for (int o = 0; o < outputs; o++)
            {
                double dot = 0;
                for (int k = 0; k < inputs; k++) dot += (double)w.Decoded[o * inputs + k] * x[t * inputs + k];
                Assert.Equal(dot, y[t * outputs + o], 3);
            }
    }

    [Fact]
    public void Iq4_Xs_Scale_Spreading_Without_Bmi2_Equals_Pdep()
    {
        Assert.True(System.Runtime.Intrinsics.X86.Bmi2.X64.IsSupported, "no BMI2 on this machine: nothing to compare with");
        var random = new Random(3);
        for (int i = 0; i < 1000; i++)
        {
            uint low = (uint)random.NextInt64(1L << 32), high = (uint)random.Next(1 << 16);
            ulong pdep = System.Runtime.Intrinsics.X86.Bmi2.X64.ParallelBitDeposit(low, 0x0F0F0F0F0F0F0F0Ful)
                | System.Runtime.Intrinsics.X86.Bmi2.X64.ParallelBitDeposit(high, 0x3030303030303030ul);
            Assert.Equal(pdep, IqSubBlockKernels.SpreadScales(low, high));
        }
    }

    /// <summary>
    /// Rows of blocks of the formats' largest magnitudes under their largest scales, all of one sign per block: IQ4_XS
    /// index 0 (−127) under scale −32 (+4064·d); IQ3_XXS and IQ3_S the grid entry of largest magnitudes, all signs
    /// negative, scale 31. Activations ±1 take the sign that makes every product add up, so a pair sum (2·127·127 for
    /// IQ4_XS) or a scaled sum that saturated would miss the reference.
    /// </summary>
    [Theory]
    [MemberData(nameof(SimdPaths))]
    public void Simd_Paths_Match_Scalar_Reference_On_Extreme_Blocks(CpuIsa isa)
    {
        using var simd = new CpuBackend(threads: 1, isa);
        using var scalar = new CpuBackend(threads: 1, CpuIsa.Scalar);
        const int outputs = 3, inputs = 1024, tokens = 4, blocks = inputs / 256;
        foreach (var type in new[] { GgmlType.IQ4_XS, GgmlType.IQ3_XXS, GgmlType.IQ3_S })
        {
            int blockBytes = GgmlTypeInfo.BytesPerBlock(type);
            var random = new Random(7);
            var negated = new bool[outputs * blocks];
            var bytes = (byte*)NativeMemory.Alloc((nuint)(outputs * blocks * blockBytes));
            try
            {
                for (int i = 0; i < negated.Length; i++)
                {
                    negated[i] = random.Next(2) == 0;
                    ExtremeBlock(type, negated[i]).CopyTo(new Span<byte>(bytes + i * blockBytes, blockBytes));
                }
                var view = new TensorView("extreme.weight", type, [outputs, inputs], bytes, (long)outputs * blocks * blockBytes, "test");
                var x = new float[tokens * inputs];
                for (int t = 0; t < tokens; t++)
                    for (int k = 0; k < inputs; k++)
                        x[t * inputs + k] = ExtremeValues(type, negated[t % outputs * blocks + k / 256])[k % 256] >= 0 ? 1f : -1f;
                double magnitude = blocks * ExtremeValues(type, false).Sum(v => Math.Abs((double)v));
                foreach (int n in new[] { 1, tokens })
                {
                    var expected = KernelAgreement.Run(scalar, view, x, n);
                    var actual = KernelAgreement.Run(simd, view, x, n);
                    for (int i = 0; i < expected.Length; i++)
                        Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-6 * magnitude + 1e-5 * Math.Abs(expected[i]),
                            $"{isa} {type} × {n} tokens, output {i}: scalar {expected[i]}, simd {actual[i]}");
                    Assert.True(Math.Abs(expected[0] - magnitude) <= 1e-2 * magnitude, $"{type}: row 0 gives {expected[0]}, not about {magnitude}");
                }
            }
            finally
            {
                NativeMemory.Free(bytes);
            }
        }
    }

    /// <summary>A block of d = ±1 whose 256 values all have the format's largest magnitudes and scale, and one sign.</summary>
    private static byte[] ExtremeBlock(GgmlType type, bool negated)
    {
        var block = new byte[GgmlTypeInfo.BytesPerBlock(type)];
        switch (type)
        {
            case GgmlType.IQ4_XS:
                // Scale fields all zero: scale −32; indices 0: −127; value +4064.
                break;
            case GgmlType.IQ3_XXS:
                // Sign code 127: all eight negative; scale field 15: 31.
                block.AsSpan(Iq3Xxs.IndicesOffset, 64).Fill((byte)LargestEntry(Iq3Grids.Xxs));
                for (int s = 0; s < 8; s++) BitConverter.TryWriteBytes(block.AsSpan(Iq3Xxs.ScalesAndSignsOffset + 4 * s), 0xF000_0000u | 0x0FFF_FFFFu);
                break;
            default:
                int index = LargestEntry(Iq3Grids.S);
                block.AsSpan(Iq3S.IndicesOffset, 64).Fill((byte)index);
                block.AsSpan(Iq3S.HighBitsOffset, 8).Fill(index >= 256 ? (byte)0xFF : (byte)0);
                block.AsSpan(Iq3S.SignsOffset, 32).Fill(0xFF);
                block.AsSpan(Iq3S.ScalesOffset, 4).Fill(0xFF);
                break;
        }
        BitConverter.TryWriteBytes(block, Fp16.FromFloat(negated ? -1f : 1f));
        return block;
    }

    private static int LargestEntry(ReadOnlySpan<uint> grid)
    {
        int best = 0;
        for (int i = 1; i < grid.Length; i++)
            if (BitConverter.GetBytes(grid[i]).Sum(b => b) > BitConverter.GetBytes(grid[best]).Sum(b => b)) best = i;
        return best;
    }

    private static float[] ExtremeValues(GgmlType type, bool negated)
    {
        var y = new float[256];
        TensorCodec.DequantizeRow(type, ExtremeBlock(type, negated), y);
        Assert.All(y, v => Assert.Equal(Math.Sign(y[0]), Math.Sign(v)));
        return y;
    }
}
