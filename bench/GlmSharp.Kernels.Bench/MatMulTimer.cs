using System.Diagnostics;
using GlmSharp.Kernels.Cpu;

namespace GlmSharp.Kernels.Bench;

/// <summary>Seconds per <see cref="CpuBackend.MatMul"/> call, averaged over as many calls as fill the sample time.</summary>
internal sealed class MatMulTimer(BenchWeights weights, int tokens, TimeSpan sampleTime)
{
    private readonly float[] _x = RandomActivations(tokens * (int)weights.Next().Shape[1]);
    private readonly float[] _y = new float[tokens * (int)weights.Next().Shape[0]];

    public double SecondsPerCall(CpuBackend backend)
    {
        backend.MatMul(weights.Next(), _x, _y, tokens);
        long calls = 0;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < sampleTime)
        {
            backend.MatMul(weights.Next(), _x, _y, tokens);
            calls++;
        }
        return clock.Elapsed.TotalSeconds / calls;
    }

    private static float[] RandomActivations(int count)
    {
        var random = new Random(2);
        var x = new float[count];
        for (int i = 0; i < count; i++) x[i] = (float)(random.NextDouble() * 4 - 2);
        return x;
    }
}
