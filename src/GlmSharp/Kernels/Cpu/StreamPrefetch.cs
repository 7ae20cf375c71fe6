using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace GlmSharp.Kernels.Cpu;

/// <summary>
/// Software prefetch for decode, which streams every weight row once. With two threads the hardware prefetcher
/// alone kept too few lines in flight. Kernels ask for the lines <see cref="Distance"/> ahead of what each loop step
/// reads, so the requests are spread over the loop. Issued instead as one burst per row (each row's lines at once
/// before its dot), they overflowed the miss queue on long rows: 2 threads, [2048 × 6144] F16 36 → 48 GB/s, Q8_0
/// 42 → 54, Q4_0 43 → 53 with the requests spread; Q4_K and Q6_K gain 11–14% over no prefetch. Spread requests want
/// a longer distance than bursts did: [12288 × 2048] Q8_0 67 → 78 GB/s and F16 67 → 79 at 12 KiB against 4 KiB,
/// 3–4% more than at 8 KiB (kernels that are compute-bound at this bandwidth, Q4_0 and Q4_K, are unchanged).
/// Prefetches past the end of a mapping are harmless: they never fault.
/// </summary>
internal static unsafe class StreamPrefetch
{
    private const int Distance = 12 << 10;
    private const int LineBytes = 64;

    /// <summary>Requests the lines <see cref="Distance"/> bytes beyond [start, start + bytes): call once per loop step.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Ahead(byte* start, int bytes)
    {
        if (!Sse.IsSupported) return;
        for (int offset = 0; offset < bytes; offset += LineBytes) Sse.Prefetch0(start + Distance + offset);
    }

    /// <summary>Requests every cache line of [start, start + bytes): data a kernel knows it will read next.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Range(byte* start, long bytes)
    {
        if (!Sse.IsSupported) return;
        for (long offset = 0; offset < bytes; offset += LineBytes) Sse.Prefetch0(start + offset);
    }
}
