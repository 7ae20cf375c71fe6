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

    [Theory]
    [MemberData(nameof(PathsAndTypes))]
    public void Simd_Path_Matches_Scalar_Reference_For_Every_Tail(CpuIsa isa, GgmlType type)
    {
        using var simd = new CpuBackend(threads: 2, isa);
        KernelAgreement.AssertSimdMatchesScalar(simd, type, Shapes(type), [1, 2, 3, 5, 9, 70], relative: 1e-5, isa.ToString());
    }

    [Theory]
    [InlineData(GgmlType.MXFP4)]
    [InlineData(GgmlType.NVFP4)]
    public void Scalar_Reference_Equals_Decoded_Dot_Within_Activation_Rounding(GgmlType type) =>
        KernelAgreement.AssertScalarWithinActivationRounding(type, outputs: 6, inputs: 320, activationBlock: 32);
}
