using System.Runtime.InteropServices;
using GlmSharp.Kernels.Cpu;
using GlmSharp.Tensors;

namespace GlmSharp.Tests.Kernels;

/// <summary>
/// IQ4_XS, IQ3_XXS and IQ3_S matrix products on blocks of the formats' extreme codes and scales, and IQ4_XS's scale
/// unpacking without BMI2 (random blocks: <see cref="KQuantKernelTests"/>).
/// </summary>
public sealed unsafe class IqKernelTests
{
    public static TheoryData<CpuIsa> SimdPaths() => KernelPaths.Supported(CpuIsa.Avx2, CpuIsa.Avx512);

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
