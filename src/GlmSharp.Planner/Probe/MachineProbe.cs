using System.Diagnostics;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace GlmSharp.Planner.Probe;

/// <summary>Measured peaks of this machine: read bandwidth, FP32 FMA rate and INT8 dot-product rate, over all threads.</summary>
public sealed record MachinePeaks(double ReadGBps, double Fp32Gflops, double Int8Gops, int Threads, double MemoryGb);

/// <summary>
/// Small timed loops that find what the planner needs to treat this CPU as a chip. Each kernel runs on every thread for a
/// fixed time after a warm-up; the rate is total work over wall time.
/// </summary>
public static class MachineProbe
{
    public static MachinePeaks Measure(int threads, double secondsPerKernel = 0.5)
    {
        threads = Math.Max(1, threads);
        return new MachinePeaks(ReadBandwidth(threads, secondsPerKernel), Fp32Fma(threads, secondsPerKernel) , Int8Dot(threads, secondsPerKernel), threads,
            GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 1e9);
    }

    private static double Parallel(int threads, double seconds, Func<double, double> work)
    {
        work(0.05);
        var sw = Stopwatch.StartNew();
        var totals = new double[threads];
        System.Threading.Tasks.Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t => totals[t] = work(seconds));
        return totals.Sum() / sw.Elapsed.TotalSeconds;
    }

    /// <summary>Bytes read per second streaming a 256 MiB buffer per thread (well beyond the caches).</summary>
    public static double ReadBandwidth(int threads, double seconds)
    {
        const int length = 32 << 20;
        var buffers = Enumerable.Range(0, threads).Select(_ => { var a = new double[length]; Array.Fill(a, 1.0); return a; }).ToArray();
        int next = 0;
        double rate = Parallel(threads, seconds, limit =>
        {
            var data = buffers[Interlocked.Increment(ref next) % threads];
            var sw = Stopwatch.StartNew();
            double bytes = 0;
            var sum = Vector256<double>.Zero;
            do
            {
                var span = System.Runtime.InteropServices.MemoryMarshal.Cast<double, Vector256<double>>(data);
                for (int i = 0; i < span.Length; i++) sum += span[i];
                bytes += (double)length * sizeof(double);
            } while (sw.Elapsed.TotalSeconds < limit);
            return sum[0] > -1 ? bytes : 0;
        });
        return rate / 1e9;
    }

    /// <summary>FP32 FLOP/s from independent fused multiply-add chains (2 FLOPs per lane per FMA).</summary>
    public static double Fp32Fma(int threads, double seconds)
    {
        if (!Fma.IsSupported) return 0;
        return Parallel(threads, seconds, limit =>
        {
            var a0 = Vector256.Create(1.0f); var a1 = a0; var a2 = a0; var a3 = a0; var a4 = a0; var a5 = a0; var a6 = a0; var a7 = a0;
            var m = Vector256.Create(0.999999f); var c = Vector256.Create(1e-7f);
            var sw = Stopwatch.StartNew();
            double flops = 0;
            do
            {
                for (int i = 0; i < 100_000; i++)
                {
                    a0 = Fma.MultiplyAdd(a0, m, c); a1 = Fma.MultiplyAdd(a1, m, c); a2 = Fma.MultiplyAdd(a2, m, c); a3 = Fma.MultiplyAdd(a3, m, c);
                    a4 = Fma.MultiplyAdd(a4, m, c); a5 = Fma.MultiplyAdd(a5, m, c); a6 = Fma.MultiplyAdd(a6, m, c); a7 = Fma.MultiplyAdd(a7, m, c);
                }
                flops += 100_000.0 * 8 * 8 * 2;
            } while (sw.Elapsed.TotalSeconds < limit);
            return (a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7)[0] > 0 ? flops : 0;
        }) / 1e9;
    }

    /// <summary>INT8 ops/s from u8×s8 multiply-add-adjacent chains (vpmaddubsw + vpmaddwd: 2 ops per byte pair).</summary>
    public static double Int8Dot(int threads, double seconds)
    {
        if (!Avx2.IsSupported) return 0;
        return Parallel(threads, seconds, limit =>
        {
            var a = Vector256.Create((byte)3); var b = Vector256.Create((sbyte)2); var ones = Vector256.Create((short)1);
            var s0 = Vector256<int>.Zero; var s1 = s0; var s2 = s0; var s3 = s0;
            var sw = Stopwatch.StartNew();
            double ops = 0;
            do
            {
                for (int i = 0; i < 100_000; i++)
                {
                    s0 = Avx2.Add(s0, Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(a, b), ones));
                    s1 = Avx2.Add(s1, Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(a, b), ones));
                    s2 = Avx2.Add(s2, Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(a, b), ones));
                    s3 = Avx2.Add(s3, Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(a, b), ones));
                }
                ops += 100_000.0 * 4 * 32 * 2;
            } while (sw.Elapsed.TotalSeconds < limit);
            return (s0 + s1 + s2 + s3)[0] != 0 ? ops : 0;
        }) / 1e9;
    }
}
