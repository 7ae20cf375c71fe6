using System.Runtime.InteropServices;
using GlmSharp.Kernels.Cpu;
using GlmSharp.Tensors;

namespace GlmSharp.Tests.Kernels;

/// <summary>
/// Q3_K / Q2_K / IQ4_XS / IQ3_XXS / IQ3_S matrix products on blocks of the formats' extreme codes and scales (random
/// blocks: <see cref="KQuantKernelTests"/>).
/// </summary>
public sealed unsafe class LowBitKQuantKernelTests
{
    public static TheoryData<CpuIsa> SimdPaths() => KernelPaths.Supported(CpuIsa.Avx2, CpuIsa.Avx512);

    /// <summary>
    /// Rows of the formats' extreme blocks, d (and dmin) 1: Q3_K all bytes 0x00 (code −4 under scale −32: +128) or
    /// 0xFF (code 3 under scale 31: +93); Q2_K code 3 under scale 15 and min 0 (+45) or code 0 under scale 0 and min 15
    /// (−15); IQ4_XS index 0 (−127) under scale −32 (+4064, or −4064 with d −1); IQ3_XXS and IQ3_S the grid entry
    /// of largest magnitudes, all signs negative, scale 31. Activations ±1 take the sign that makes every product add
    /// up. A 16-bit pair sum (2·127·127 for IQ4_XS) or scaled sum that saturated would miss the reference.
    /// </summary>
    [Theory]
    [MemberData(nameof(SimdPaths))]
    public void Simd_Paths_Match_Scalar_Reference_On_Extreme_Blocks(CpuIsa isa)
    {
        using var simd = new CpuBackend(threads: 1, isa);
        using var scalar = new CpuBackend(threads: 1, CpuIsa.Scalar);
        const int outputs = 3, inputs = 1024, tokens = 4, blocks = inputs / 256;
        foreach (var type in new[] { GgmlType.Q3_K, GgmlType.Q2_K, GgmlType.IQ4_XS, GgmlType.IQ3_XXS, GgmlType.IQ3_S })
        {
            int blockBytes = GgmlTypeInfo.BytesPerBlock(type);
            var random = new Random(7);
            var high = new bool[outputs * blocks];
            var bytes = (byte*)NativeMemory.Alloc((nuint)(outputs * blocks * blockBytes));
            try
            {
                for (int i = 0; i < high.Length; i++)
                {
                    high[i] = random.Next(2) == 0;
                    ExtremeBlock(type, high[i]).CopyTo(new Span<byte>(bytes + i * blockBytes, blockBytes));
                }
                var view = new TensorView("extreme.weight", type, [outputs, inputs], bytes, (long)outputs * blocks * blockBytes, "test");
                var x = new float[tokens * inputs];
                for (int t = 0; t < tokens; t++)
                    for (int k = 0; k < inputs; k++)
                        x[t * inputs + k] = ExtremeValues(type, high[t % outputs * blocks + k / 256])[k % 256] >= 0 ? 1f : -1f;
                // Rows other than a token's own meet mixed signs and may cancel to 0: float error is bounded by Σ|w·x|.
                double magnitude = blocks * Math.Max(ExtremeValues(type, true).Sum(v => Math.Abs((double)v)), ExtremeValues(type, false).Sum(v => Math.Abs((double)v)));
                foreach (int n in new[] { 1, tokens }) KernelAgreement.AssertSimdMatchesScalar(scalar, simd, view, x, n, magnitude, $"{isa} {type}");
            }
            finally
            {
                NativeMemory.Free(bytes);
            }
        }
    }

    private static byte[] ExtremeBlock(GgmlType type, bool high)
    {
        if (type is GgmlType.IQ4_XS or GgmlType.IQ3_XXS or GgmlType.IQ3_S) return ExtremeIqBlock(type, negated: high);
        var block = new byte[GgmlTypeInfo.BytesPerBlock(type)];
        if (type == GgmlType.Q3_K)
        {
            block.AsSpan().Fill(high ? (byte)0xFF : (byte)0);
            BitConverter.TryWriteBytes(block.AsSpan(Q3_K.ScaleOffset), (ushort)0x3C00);
            return block;
        }
        block.AsSpan(0, 16).Fill(high ? (byte)0x0F : (byte)0xF0);
        block.AsSpan(Q2_K.CodesOffset, 64).Fill(high ? (byte)0xFF : (byte)0);
        BitConverter.TryWriteBytes(block.AsSpan(Q2_K.ScaleOffset), (ushort)0x3C00);
        BitConverter.TryWriteBytes(block.AsSpan(Q2_K.MinOffset), (ushort)0x3C00);
        return block;
    }

    /// <summary>An IQ block of d = ±1 whose 256 values all have the format's largest magnitudes and scale, and one sign.</summary>
    private static byte[] ExtremeIqBlock(GgmlType type, bool negated)
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
