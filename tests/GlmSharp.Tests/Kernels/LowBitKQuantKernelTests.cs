using System.Runtime.InteropServices;
using GlmSharp.Kernels.Cpu;
using GlmSharp.Tensors;

namespace GlmSharp.Tests.Kernels;

/// <summary>
/// Q3_K / Q2_K matrix products on blocks of the formats' extreme codes and scales (random blocks: <see cref="KQuantKernelTests"/>).
/// </summary>
public sealed unsafe class LowBitKQuantKernelTests
{
    public static TheoryData<CpuIsa> SimdPaths() => KernelPaths.Supported(CpuIsa.Avx2, CpuIsa.Avx512);

    /// <summary>
    /// Rows of the formats' extreme blocks, d (and dmin) 1: Q3_K all bytes 0x00 (code −4 under scale −32: +128) or
    /// 0xFF (code 3 under scale 31: +93); Q2_K code 3 under scale 15 and min 0 (+45) or code 0 under scale 0 and min 15
    /// (−15). Activations ±1 take the sign that makes every product add up. A 16-bit pair sum or scaled sum that
    /// saturated would miss the reference.
    /// </summary>
    [Theory]
    [MemberData(nameof(SimdPaths))]
    public void Simd_Paths_Match_Scalar_Reference_On_Extreme_Blocks(CpuIsa isa)
    {
        using var simd = new CpuBackend(threads: 1, isa);
        using var scalar = new CpuBackend(threads: 1, CpuIsa.Scalar);
        const int outputs = 3, inputs = 1024, tokens = 4, blocks = inputs / 256;
        foreach (var type in new[] { GgmlType.Q3_K, GgmlType.Q2_K })
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
                        x[t * inputs + k] = ExtremeValue(type, high[t % outputs * blocks + k / 256]) >= 0 ? 1f : -1f;
                // Rows other than a token's own meet mixed signs and may cancel to 0: float error is bounded by Σ|w·x|.
                double magnitude = inputs * Math.Max(Math.Abs(ExtremeValue(type, true)), Math.Abs(ExtremeValue(type, false)));
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

    private static float ExtremeValue(GgmlType type, bool high)
    {
        var y = new float[256];
        TensorCodec.DequantizeRow(type, ExtremeBlock(type, high), y);
        Assert.All(y, v => Assert.Equal(y[0], v));
        return y[0];
    }
}
