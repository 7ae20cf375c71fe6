using System.Diagnostics;
using GlmSharp.Kernels.Cpu;

namespace GlmSharp.Kernels.Bench;

/// <summary>
/// Seconds per <see cref="CpuBackend.BidirectionalAttention"/> call over one image's patches: every patch against every
/// patch, <c>heads</c> heads of <c>headDim</c> (GLM-4.1V's tower: 12 heads of 128; a 4K image has 42,196 patches).
/// </summary>
internal sealed class VisionAttentionTimer : IDisposable
{
    private readonly CpuBackend _backend;
    private readonly DeviceSpan<float> _q, _k, _v, _output;
    private readonly int _tokens, _heads, _headDim;

    public VisionAttentionTimer(CpuBackend backend, int tokens, int heads, int headDim)
    {
        (_backend, _tokens, _heads, _headDim) = (backend, tokens, heads, headDim);
        var random = new Random(5);
        int count = tokens * heads * headDim;
        _q = Upload(random, count);
        _k = Upload(random, count);
        _v = Upload(random, count);
        _output = backend.Allocate<float>(count);
    }

    /// <summary>4·n²·d per head: q·kᵀ and p·v, each n²·d multiply-adds; the softmax's n² exponentials are not counted.</summary>
    public double Flops => 4.0 * _tokens * _tokens * _headDim * _heads;

    private DeviceSpan<float> Upload(Random random, int count)
    {
        var values = new float[count];
        for (int i = 0; i < count; i++) values[i] = (float)(random.NextDouble() * 4 - 2);
        return _backend.Upload<float>(values);
    }

    /// <summary>One call, timed (a 4K image's attention takes seconds, so a sample is a single call).</summary>
    public double SecondsPerCall()
    {
        var clock = Stopwatch.StartNew();
        _backend.BidirectionalAttention(_q, _k, _v, _output, _tokens, _heads, _headDim, 1f / MathF.Sqrt(_headDim));
        return clock.Elapsed.TotalSeconds;
    }

    public void Dispose()
    {
        _q.Memory.Dispose();
        _k.Memory.Dispose();
        _v.Memory.Dispose();
        _output.Memory.Dispose();
    }
}
