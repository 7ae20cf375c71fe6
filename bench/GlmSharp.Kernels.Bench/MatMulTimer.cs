using System.Diagnostics;
using GlmSharp.Kernels.Cpu;

namespace GlmSharp.Kernels.Bench;

/// <summary>Seconds per <see cref="CpuBackend.MatMul"/> call, averaged over as many calls as fill the sample time.</summary>
internal sealed class MatMulTimer(BenchWeights weights, int tokens, TimeSpan sampleTime)
{
    private readonly float[] _x = RandomActivations(tokens * (int)weights.Next().Shape[1]);
    private readonly int _outputs = tokens * (int)weights.Next().Shape[0];

    public double SecondsPerCall(CpuBackend backend)
    {
        var x = backend.Upload<float>(_x);
        var y = backend.Allocate<float>(_outputs);
        backend.MatMul(weights.Next(), x, y, tokens);
        long calls = 0;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < sampleTime)
        {
            backend.MatMul(weights.Next(), x, y, tokens);
            calls++;
        }
        double seconds = clock.Elapsed.TotalSeconds / calls;
        x.Memory.Dispose();
        y.Memory.Dispose();
        return seconds;
    }

    private static float[] RandomActivations(int count)
    {
        var random = new Random(2);
        var x = new float[count];
        for (int i = 0; i < count; i++) x[i] = (float)(random.NextDouble() * 4 - 2);
        return x;
    }
}
