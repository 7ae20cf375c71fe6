using System.Runtime.Intrinsics;

namespace GlmSharp.Kernels.Cpu;

/// <summary>The Q8_K activation codes and 16-value sums of up to four tokens at the current super-block, for the repacked K-quant kernels.</summary>
internal readonly unsafe struct Q8KTokenRows(sbyte* codes, int codeStride, short* sums, int sumStride)
{
    public readonly sbyte* Codes = codes;
    public readonly short* Sums = sums;
    public readonly int CodeStride = codeStride, SumStride = sumStride;

    public Q8KTokenRows NextSuperBlock() =>
        new(Codes + ScalarKQuantKernels.SuperBlock, CodeStride, Sums + ScalarKQuantKernels.SuperBlock / ScalarKQuantKernels.Group, SumStride);
}

/// <summary>One 32-bit sum per row (lane) for each of up to four tokens.</summary>
internal struct TileSums
{
    public Vector256<int> T0, T1, T2, T3;
}
