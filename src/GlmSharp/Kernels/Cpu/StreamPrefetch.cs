using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace GlmSharp.Kernels.Cpu;

/// <summary>
/// Software prefetch for decode, which streams every weight row once. With two threads the hardware prefetcher
/// alone kept too few lines in flight: asking for each row's lines 4 KiB ahead raised a 113 MB Q4_0 GEMV from 36.6
/// to 42 GB/s (2 KiB: 40, 8 KiB: 37, 16 KiB: 33). Prefetches past the end of a mapping are harmless: they never fault.
/// </summary>
internal static unsafe class StreamPrefetch
{
    private const int Distance = 4096;
    private const int LineBytes = 64;

    /// <summary>Requests the cache lines that lie <see cref="Distance"/> bytes beyond each line of the row at <paramref name="row"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Row(byte* row, long rowBytes)
    {
        if (!Sse.IsSupported) return;
        for (long offset = 0; offset < rowBytes; offset += LineBytes) Sse.Prefetch0(row + Distance + offset);
    }

    /// <summary>Requests every cache line of [start, start + bytes): data a kernel knows it will read next.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Range(byte* start, long bytes)
    {
        if (!Sse.IsSupported) return;
        for (long offset = 0; offset < bytes; offset += LineBytes) Sse.Prefetch0(start + offset);
    }
}
