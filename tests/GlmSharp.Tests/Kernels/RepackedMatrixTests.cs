using GlmSharp.Kernels.Cpu;
using GlmSharp.Tensors;

namespace GlmSharp.Tests.Kernels;

/// <summary>
/// Q4_0 / Q8_0 matrices repacked at load for the plain-AVX2 kernels (eight rows interleaved): the same products as the
/// stored layout, the layout's own type, and the cases that keep the stored layout.
/// </summary>
public sealed class RepackedMatrixTests
{
    // Rows in whole groups of eight, with K tails (96, 288, 800, 2080: partial groups of eight blocks) and one matrix of
    // 13 rows, which stays as stored.
    private static readonly (int Outputs, int Inputs)[] Shapes = [(8, 32), (16, 96), (24, 288), (8, 512), (40, 800), (8, 2080), (13, 288)];

    // Every tile of four, two and one token, and more than one 64-token chunk.
    private static readonly int[] TokenCounts = [1, 2, 3, 4, 5, 7, 9, 70];

    [Theory]
    [InlineData(GgmlType.Q4_0)]
    [InlineData(GgmlType.Q8_0)]
    public void Repacked_Matrix_Matches_Scalar_Reference_Of_The_Stored_One(GgmlType type)
    {
        using var simd = new CpuBackend(threads: 2, CpuIsa.Avx2, Int8Path.Avx2Maddubs);
        KernelAgreement.AssertSimdMatchesScalar(simd, type, Shapes, TokenCounts, relative: 1e-4, "repacked", prepared: true);
    }
}
