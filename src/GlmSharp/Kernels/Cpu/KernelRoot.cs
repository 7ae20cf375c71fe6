using System.Runtime.CompilerServices;

namespace GlmSharp.Kernels.Cpu;

/// <summary>
/// How every block-loop kernel is compiled: fully optimized from the first call, and never inlined into its caller, so
/// that it is a root with an inlining budget of its own. Inlined into the matrix dispatch, a kernel shared that method's
/// budget with every other kernel the dispatch reaches, and once the budget ran out its per-chunk helpers stayed calls
/// whose vector accumulators went through memory (repacked Q8_0 prefill of 128 tokens at [13696 × 4096]: 125 ms
/// against 70 when a dispatch branch was added).
/// </summary>
internal static class KernelRoot
{
    public const MethodImplOptions Options = MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining;
}
