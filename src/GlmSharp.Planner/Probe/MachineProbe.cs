using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace GlmSharp.Planner.Probe;

/// <summary>Measured peaks of this machine: read bandwidth, FP32 FMA rate and INT8 dot-product rate, over all threads.</summary>
public sealed record MachinePeaks(double ReadGBPerSecond, double Fp32Gflops, double Int8Gops, int Threads, double MemoryGb, string Fp32Kernel, string Int8Kernel);

/// <summary>
/// Small timed kernels that find what the planner needs to treat this CPU as a chip. Each kernel is JIT-compiled and
/// warmed first, then started on every thread at once behind a barrier; the rate is all threads' work over the wall
/// time, and the best of several runs is kept (other processes only ever slow a run down). The arithmetic kernels keep
/// many independent accumulators so the FMA/dot-product pipes, not instruction latency, set the pace, and each inner
/// block makes no calls: a vector live across a call (the clock) is kept in memory by the JIT, which alone made an
/// earlier version of this probe several times too slow.
/// </summary>
public static class MachineProbe
{
    private const int Runs = 3;

    /// <summary>Where kernel results go so the JIT cannot drop the work that produced them.</summary>
    private static long _sink;

    public static MachinePeaks Measure(int threads, double secondsPerRun = 0.25)
    {
        threads = Math.Max(1, threads);
        return new MachinePeaks(ReadBandwidth(threads, secondsPerRun), Fp32Fma(threads, secondsPerRun), Int8Dot(threads, secondsPerRun), threads,
            GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 1e9, Fp32KernelName, Int8KernelName);
    }

    public static string Fp32KernelName => Avx512F.IsSupported ? "AVX-512 FMA" : Fma.IsSupported ? "AVX2 FMA" : "none";

    public static string Int8KernelName => AvxVnni.IsSupported ? "AVX-VNNI vpdpbusd" : "none";

    /// <summary>Work units per second: every thread runs <paramref name="work"/> (returning its units) for about <paramref name="seconds"/>.</summary>
    private static double BestRate(int threads, double seconds, Func<int, double, double> work)
    {
        for (int t = 0; t < threads; t++) work(t, 0.01);
        double best = 0;
        for (int run = 0; run < Runs; run++)
        {
            var totals = new double[threads];
            using var start = new Barrier(threads + 1);
            var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
            {
                start.SignalAndWait();
                totals[t] = work(t, seconds);
            }) { IsBackground = true }).ToArray();
            foreach (var w in workers) w.Start();
            start.SignalAndWait();
            var sw = Stopwatch.StartNew();
            foreach (var w in workers) w.Join();
            best = Math.Max(best, totals.Sum() / sw.Elapsed.TotalSeconds);
        }
        return best;
    }

    /// <summary>Bytes per second summing a 128 MiB buffer per thread (far beyond the caches) with eight vector accumulators.</summary>
    public static unsafe double ReadBandwidth(int threads, double seconds)
    {
        const long length = 128L << 20;
        var buffers = new IntPtr[threads];
        for (int t = 0; t < threads; t++)
        {
            buffers[t] = (IntPtr)NativeMemory.AlignedAlloc((nuint)length, 64);
            new Span<byte>((void*)buffers[t], (int)length).Fill(1);
        }
        try
        {
            return BestRate(threads, seconds, (t, limit) =>
            {
                var data = (Vector256<long>*)buffers[t];
                var sum = Vector256<long>.Zero;
                double bytes = 0;
                var sw = Stopwatch.StartNew();
                do { sum += SumBlock(data, length / 32); bytes += length; } while (sw.Elapsed.TotalSeconds < limit);
                Interlocked.Add(ref _sink, sum[0]);
                return bytes;
            }) / 1e9;
        }
        finally
        {
            foreach (var b in buffers) NativeMemory.AlignedFree((void*)b);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe Vector256<long> SumBlock(Vector256<long>* data, long vectors)
    {
        var s0 = Vector256<long>.Zero; var s1 = s0; var s2 = s0; var s3 = s0; var s4 = s0; var s5 = s0; var s6 = s0; var s7 = s0;
        for (long i = 0; i < vectors; i += 8)
        {
            s0 += data[i]; s1 += data[i + 1]; s2 += data[i + 2]; s3 += data[i + 3];
            s4 += data[i + 4]; s5 += data[i + 5]; s6 += data[i + 6]; s7 += data[i + 7];
        }
        return s0 + s1 + s2 + s3 + s4 + s5 + s6 + s7;
    }

    private const int Inner = 20_000;

    /// <summary>FP32 FLOP/s from twelve independent FMA chains (2 FLOPs per lane per FMA), on the widest vectors the CPU has.</summary>
    public static double Fp32Fma(int threads, double seconds)
    {
        if (Avx512F.IsSupported)
            return BestRate(threads, seconds, (_, limit) => Repeat(limit, Vector512.Create(1f), v => Fma512(v, Inner), Inner * 12.0 * 16 * 2)) / 1e9;
        if (Fma.IsSupported)
            return BestRate(threads, seconds, (_, limit) => Repeat(limit, Vector256.Create(1f), v => Fma256(v, Inner), Inner * 12.0 * 8 * 2)) / 1e9;
        return 0;
    }

    /// <summary>
    /// INT8 ops/s (a multiply and an add per u8×s8 pair) from eight independent dot-product-accumulate chains; 0 on CPUs
    /// without VNNI, whose int8 paths are too varied for one honest kernel.
    /// </summary>
    public static double Int8Dot(int threads, double seconds) =>
        AvxVnni.IsSupported ? BestRate(threads, seconds, (_, limit) => Repeat(limit, Vector256<int>.Zero, v => Vnni256(v, Inner), Inner * 8.0 * 32 * 2)) / 1e9 : 0;

    /// <summary>Runs a block until the time is up, threading its result through so nothing can be skipped; returns the work done.</summary>
    private static double Repeat<T>(double limit, T seed, Func<T, T> block, double workPerBlock)
    {
        var sw = Stopwatch.StartNew();
        double work = 0;
        var state = seed;
        do { state = block(state); work += workPerBlock; } while (sw.Elapsed.TotalSeconds < limit);
        Interlocked.Add(ref _sink, state!.GetHashCode());
        return work;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static Vector512<float> Fma512(Vector512<float> seed, int n)
    {
        var m = Vector512.Create(0.999999f); var c = Vector512.Create(1e-7f);
        var a0 = seed; var a1 = seed; var a2 = seed; var a3 = seed; var a4 = seed; var a5 = seed;
        var a6 = seed; var a7 = seed; var a8 = seed; var a9 = seed; var a10 = seed; var a11 = seed;
        for (int i = 0; i < n; i++)
        {
            a0 = Avx512F.FusedMultiplyAdd(a0, m, c); a1 = Avx512F.FusedMultiplyAdd(a1, m, c); a2 = Avx512F.FusedMultiplyAdd(a2, m, c);
            a3 = Avx512F.FusedMultiplyAdd(a3, m, c); a4 = Avx512F.FusedMultiplyAdd(a4, m, c); a5 = Avx512F.FusedMultiplyAdd(a5, m, c);
            a6 = Avx512F.FusedMultiplyAdd(a6, m, c); a7 = Avx512F.FusedMultiplyAdd(a7, m, c); a8 = Avx512F.FusedMultiplyAdd(a8, m, c);
            a9 = Avx512F.FusedMultiplyAdd(a9, m, c); a10 = Avx512F.FusedMultiplyAdd(a10, m, c); a11 = Avx512F.FusedMultiplyAdd(a11, m, c);
        }
        return (a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11) * (1f / 12);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static Vector256<float> Fma256(Vector256<float> seed, int n)
    {
        var m = Vector256.Create(0.999999f); var c = Vector256.Create(1e-7f);
        var a0 = seed; var a1 = seed; var a2 = seed; var a3 = seed; var a4 = seed; var a5 = seed;
        var a6 = seed; var a7 = seed; var a8 = seed; var a9 = seed; var a10 = seed; var a11 = seed;
        for (int i = 0; i < n; i++)
        {
            a0 = Fma.MultiplyAdd(a0, m, c); a1 = Fma.MultiplyAdd(a1, m, c); a2 = Fma.MultiplyAdd(a2, m, c);
            a3 = Fma.MultiplyAdd(a3, m, c); a4 = Fma.MultiplyAdd(a4, m, c); a5 = Fma.MultiplyAdd(a5, m, c);
            a6 = Fma.MultiplyAdd(a6, m, c); a7 = Fma.MultiplyAdd(a7, m, c); a8 = Fma.MultiplyAdd(a8, m, c);
            a9 = Fma.MultiplyAdd(a9, m, c); a10 = Fma.MultiplyAdd(a10, m, c); a11 = Fma.MultiplyAdd(a11, m, c);
        }
        return (a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11) * (1f / 12);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static Vector256<int> Vnni256(Vector256<int> seed, int n)
    {
        var a = Vector256.Create((byte)3); var b = Vector256.Create((sbyte)2);
        var s0 = seed; var s1 = seed; var s2 = seed; var s3 = seed; var s4 = seed; var s5 = seed; var s6 = seed; var s7 = seed;
        for (int i = 0; i < n; i++)
        {
            s0 = AvxVnni.MultiplyWideningAndAdd(s0, a, b); s1 = AvxVnni.MultiplyWideningAndAdd(s1, a, b);
            s2 = AvxVnni.MultiplyWideningAndAdd(s2, a, b); s3 = AvxVnni.MultiplyWideningAndAdd(s3, a, b);
            s4 = AvxVnni.MultiplyWideningAndAdd(s4, a, b); s5 = AvxVnni.MultiplyWideningAndAdd(s5, a, b);
            s6 = AvxVnni.MultiplyWideningAndAdd(s6, a, b); s7 = AvxVnni.MultiplyWideningAndAdd(s7, a, b);
        }
        return (s0 + s1 + s2 + s3 + s4 + s5 + s6 + s7) >>> 3;
    }
}
