using System.Runtime.InteropServices;
using GlmSharp.Kernels.Cpu;
using GlmSharp.Tensors;
using GlmSharp.Tests.Support;

namespace GlmSharp.Tests.Kernels;

/// <summary>
/// The lattice types' SIMD decode and prefill kernels against the scalar reference: random blocks over odd row
/// counts, several row lengths, one token (decode) and many (the prefill tile, with a token count that leaves a
/// remainder), and blocks at the largest scale of each type. The portable path decodes rows to floats
/// (<see cref="KQuantKernelTests"/>).
/// </summary>
public sealed unsafe class LatticeKernelTests
{
    public static TheoryData<CpuIsa, GgmlType> SimdPathsAndTypes()
    {
        var data = new TheoryData<CpuIsa, GgmlType>();
        foreach (var isa in new[] { CpuIsa.Avx2, CpuIsa.Avx512 }.Where(CpuIsaSupport.IsSupported))
            foreach (var type in RandomIqBlocks.LatticeTypes) data.Add(isa, type);
        return data;
    }

    [Theory]
    [MemberData(nameof(SimdPathsAndTypes))]
    public void Simd_Paths_Match_Scalar_Reference_On_Random_Blocks(CpuIsa isa, GgmlType type)
    {
        using var simd = new CpuBackend(threads: 2, isa);
        KernelAgreement.AssertSimdMatchesScalar(simd, type, [(1, 256), (7, 512), (33, 1280)], [1, 2, 5, 67], relative: 1e-5, isa.ToString());
    }

    [Fact]
    public void Scalar_Reference_Is_The_Exact_Dot_Within_Activation_Rounding()
    {
        foreach (var type in RandomIqBlocks.LatticeTypes) KernelAgreement.AssertScalarWithinActivationRounding(type, 4, 512, 256);
    }

    /// <summary>
    /// Every scale field at its largest (2·15 + 1 for the IQ2 types, 2·7 + 1 for the IQ1 types), d 1, and activations
    /// ±1 with the signs of a token's own row, so every product adds up: a 16-bit pair sum or scaled sum that
    /// saturated, or a scale taken from the wrong field, would miss the reference.
    /// </summary>
    [Theory]
    [MemberData(nameof(SimdPathsAndTypes))]
    public void Simd_Paths_Match_Scalar_Reference_At_The_Largest_Scales(CpuIsa isa, GgmlType type)
    {
        using var simd = new CpuBackend(threads: 1, isa);
        using var scalar = new CpuBackend(threads: 1, CpuIsa.Scalar);
        const int outputs = 3, inputs = 1024, tokens = 4;
        var bytes = RandomIqBlocks.Create(type, outputs * inputs, new Random(7), _ => 0x3C00);
        int blockBytes = GgmlTypeInfo.BytesPerBlock(type);
        for (int b = 0; b < bytes.Length / blockBytes; b++) LargestScales(type, bytes.AsSpan(b * blockBytes, blockBytes));
        var decoded = new float[outputs * inputs];
        TensorCodec.DequantizeRow(type, bytes, decoded);
        var x = new float[tokens * inputs];
        for (int t = 0; t < tokens; t++)
            for (int k = 0; k < inputs; k++) x[t * inputs + k] = decoded[t % outputs * inputs + k] >= 0 ? 1f : -1f;
        double magnitude = decoded.Max(Math.Abs) * inputs;
        fixed (byte* data = bytes)
        {
            var view = new TensorView("extreme.weight", type, [outputs, inputs], data, bytes.Length, "test");
            foreach (int n in new[] { 1, tokens })
            {
                var expected = KernelAgreement.AssertSimdMatchesScalar(scalar, simd, view, x, n, magnitude, $"{isa} {type}");
                for (int t = 0; t < n; t++)
                {
                    int o = t % outputs;
                    double exact = 0;
                    for (int k = 0; k < inputs; k++) exact += Math.Abs(decoded[o * inputs + k]);
                    Assert.True(Math.Abs(expected[t * outputs + o] - exact) <= 1e-5 * exact, $"{type} token {t}: scalar {expected[t * outputs + o]}, exact {exact}");
                }
            }
        }
    }

    private static void LargestScales(GgmlType type, Span<byte> block)
    {
        switch (type)
        {
            case GgmlType.IQ2_XXS:
                for (int ib = 0; ib < 8; ib++) block[2 + 8 * ib + 7] |= 0xF0;
                break;
            case GgmlType.IQ2_XS: block.Slice(Iq2Xs.ScalesOffset, 8).Fill(0xFF); break;
            case GgmlType.IQ2_S: block.Slice(Iq2S.ScalesOffset, 8).Fill(0xFF); break;
            case GgmlType.IQ1_S:
                for (int ib = 0; ib < 8; ib++) block[Iq1S.HighOffset + 2 * ib + 1] |= 0x70;
                break;
            default:
                for (int k = 0; k < 4; k++)
                {
                    block[Iq1M.ScalesOffset + 2 * k] = 0xFF;
                    block[Iq1M.ScalesOffset + 2 * k + 1] |= 0x0F;
                }
                break;
        }
    }
}
