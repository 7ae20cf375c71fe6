using System.Diagnostics;
using GlmSharp.Kernels.Cpu;
using GlmSharp.Tensors;

namespace GlmSharp.Kernels.Bench;

/// <summary>Seconds per <see cref="CpuBackend.MatMul"/> call, averaged over as many calls as fill the sample time.</summary>
internal sealed class MatMulTimer(BenchWeights weights, int tokens, TimeSpan sampleTime)
{
    private readonly float[] _x = RandomActivations(tokens * (int)weights.First.Shape[1]);
    private readonly int _outputs = tokens * (int)weights.First.Shape[0];

    private int _next;

    /// <param name="copies">The weights' copies as this backend multiplies them (<see cref="BenchWeights.For"/>).</param>
    public double SecondsPerCall(CpuBackend backend, TensorView[] copies)
    {
        var x = backend.Upload<float>(_x);
        var y = backend.Allocate<float>(_outputs);
        backend.MatMul(copies[_next++ % copies.Length], x, y, tokens);
        long calls = 0;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < sampleTime)
        {
            backend.MatMul(copies[_next++ % copies.Length], x, y, tokens);
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
