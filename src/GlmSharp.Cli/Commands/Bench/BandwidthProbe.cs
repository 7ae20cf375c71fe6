using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace GlmSharp.Cli.Commands.Bench;

/// <summary>
/// Measures read bandwidth the way decode uses memory: each thread streams its share of a buffer far larger
/// than the caches and sums it. Returns the median over several passes, in bytes per second.
/// </summary>
internal static unsafe class BandwidthProbe
{
    public static double Measure(int threads, long bytes = 1L << 30, int passes = 7)
    {
        byte* buffer = (byte*)NativeMemory.AlignedAlloc((nuint)bytes, 64);
        try
        {
            for (long offset = 0; offset < bytes; offset += 1 << 26)
                new Span<byte>(buffer + offset, (int)Math.Min(1 << 26, bytes - offset)).Fill(1);
            var rates = new double[passes];
            long share = bytes / threads / 256 * 256;
            for (int p = 0; p < passes; p++)
            {
                var start = Stopwatch.GetTimestamp();
                Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t => Sum(buffer + t * share, share));
                rates[p] = share * threads / Stopwatch.GetElapsedTime(start).TotalSeconds;
            }
            Array.Sort(rates);
            return rates[passes / 2];
        }
        finally
        {
            NativeMemory.AlignedFree(buffer);
        }
    }

    private static float Sum(byte* data, long length)
    {
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
        float* p = (float*)data;
        for (long i = 0; i < length / 4; i += 32)
        {
            a0 += Vector256.Load(p + i);
            a1 += Vector256.Load(p + i + 8);
            a2 += Vector256.Load(p + i + 16);
            a3 += Vector256.Load(p + i + 24);
        }
        return Vector256.Sum(a0 + a1 + a2 + a3);
    }
}
