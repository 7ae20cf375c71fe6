using System.Runtime.Intrinsics;
using GlmSharp.Tensors;
using System.Runtime.Intrinsics.X86;

namespace GlmSharp.Kernels.Cpu;

/// <summary>The kernels that multiply Q8_0 / Q4_0 weights with 8-bit activations, weakest first.</summary>
internal enum Int8Path
{
    /// <summary><see cref="ScalarKernels.DotQuantizedRow"/>: the reference.</summary>
    Scalar,

    /// <summary>128-bit widening multiplies (<see cref="Int8KernelsPortable"/>), for any hardware with 128-bit SIMD.</summary>
    Portable,

    /// <summary>256-bit AVX2: vpmaddubsw then vpmaddwd by ones, with 4-bit codes as they are and Q8_0 codes' signs moved onto the activations.</summary>
    Avx2Maddubs,

    /// <summary>256-bit AVX-VNNI: one vpdpbusd per 32 byte pairs.</summary>
    AvxVnni256,

    /// <summary>512-bit AVX-512BW: vpmaddubsw then vpmaddwd (<see cref="Int8KernelsAvx512"/>).</summary>
    Avx512BW,

    /// <summary>
    /// AVX-512BW and AVX-VNNI together, each where it measured faster on Zen 5 (bench/README.md): the Q4_0 prefill
    /// tile on 512 bits, whose 16-bit sums of a whole group need one vpmaddwd where 256-bit vpdpbusd needs eight
    /// instructions; Q8_0 (which needs the costlier sign trick on 512 bits) and decode on 256-bit vpdpbusd.
    /// </summary>
    Avx512WithVnni,
}

internal static class Int8Paths
{
    /// <summary>The int8 kernels a backend on <paramref name="isa"/> uses, as measured in bench/README.md.</summary>
    public static Int8Path For(CpuIsa isa) => isa switch
    {
        CpuIsa.Avx512 => AvxVnni.IsSupported ? Int8Path.Avx512WithVnni : Int8Path.Avx512BW,
        CpuIsa.Avx2 => AvxVnni.IsSupported ? Int8Path.AvxVnni256 : Int8Path.Avx2Maddubs,
        CpuIsa.Portable => Vector128.IsHardwareAccelerated ? Int8Path.Portable : Int8Path.Scalar,
        _ => Int8Path.Scalar,
    };

    public static bool IsSupported(Int8Path path) => path switch
    {
        Int8Path.Scalar => true,
        Int8Path.Portable => Vector128.IsHardwareAccelerated,
        Int8Path.Avx2Maddubs => Avx2.IsSupported && Fma.IsSupported,
        Int8Path.AvxVnni256 => AvxVnni.IsSupported && Fma.IsSupported,
        Int8Path.Avx512BW => Avx512BW.IsSupported && Avx512F.IsSupported && Fma.IsSupported,
        Int8Path.Avx512WithVnni => IsSupported(Int8Path.Avx512BW) && IsSupported(Int8Path.AvxVnni256),
        _ => false,
    };

    /// <summary>The kernels that run one multiplication: <see cref="Int8Path.Avx512WithVnni"/> splits by type and phase.</summary>
    public static Int8Path Resolve(Int8Path path, GgmlType type, bool prefill) =>
        path != Int8Path.Avx512WithVnni ? path
        : type is GgmlType.Q4_0 or GgmlType.Q4_K or GgmlType.Q5_K && prefill ? Int8Path.Avx512BW
        : Int8Path.AvxVnni256;

    /// <summary>The weakest instruction set whose float kernels can accompany <paramref name="path"/> (tests, benchmarks).</summary>
    public static CpuIsa MinimumIsa(Int8Path path) => path switch
    {
        Int8Path.Scalar => CpuIsa.Scalar,
        Int8Path.Portable => CpuIsa.Portable,
        Int8Path.Avx512BW or Int8Path.Avx512WithVnni => CpuIsa.Avx512,
        _ => CpuIsa.Avx2,
    };
}
