using System.Numerics;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace GlmSharp.Kernels.Cpu;

/// <summary>The instruction sets a CPU kernel path is written for, weakest first.</summary>
public enum CpuIsa
{
    /// <summary>Plain loops: the reference every other path is tested against.</summary>
    Scalar,

    /// <summary><see cref="Vector{T}"/> float kernels for any hardware .NET vectorises for; int8 dots on 128-bit
    /// widening multiplies.</summary>
    Portable,

    /// <summary>256-bit AVX2 + FMA; int8 dots through AVX-VNNI when the CPU has it, pmaddwd otherwise.</summary>
    Avx2,

    /// <summary>512-bit AVX-512 (F + BW) for float work; int8 dots on 512-bit vpmaddubsw/vpmaddwd, or, where the CPU
    /// has AVX-VNNI, on 256-bit vpdpbusd for all but the Q4_0 prefill tile (whichever measured faster).</summary>
    Avx512,
}

public static class CpuIsaSupport
{
    /// <summary>The fastest path this CPU runs, chosen once per process.</summary>
    public static CpuIsa Best { get; } =
        Avx512F.IsSupported && Avx512BW.IsSupported && Vector512.IsHardwareAccelerated ? CpuIsa.Avx512
        : Avx2.IsSupported && Fma.IsSupported ? CpuIsa.Avx2
        : Vector.IsHardwareAccelerated ? CpuIsa.Portable
        : CpuIsa.Scalar;

    /// <summary>True when this CPU can run kernels written for <paramref name="isa"/>.</summary>
    public static bool IsSupported(CpuIsa isa) => isa switch
    {
        CpuIsa.Scalar or CpuIsa.Portable => true,
        CpuIsa.Avx2 => Avx2.IsSupported && Fma.IsSupported,
        CpuIsa.Avx512 => Avx512F.IsSupported && Avx512BW.IsSupported,
        _ => false,
    };

    /// <summary>Whether 256-bit int8 dot products run as one vpdpbusd (AVX-VNNI) rather than widening multiplies.</summary>
    public static bool HasVnni => AvxVnni.IsSupported;
}
