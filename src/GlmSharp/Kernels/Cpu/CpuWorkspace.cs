using System.Runtime.InteropServices;

namespace GlmSharp.Kernels.Cpu;

/// <summary>
/// The scratch memory of one calling thread's operations: quantized activations, per-pool-thread tiles, attention
/// partials, expert gathers, router scores. Each thread that calls a <see cref="CpuBackend"/> gets its own, so steps
/// from different callers share no mutable buffer; only the worker pool itself takes their operations in turn.
/// </summary>
internal sealed unsafe class CpuWorkspace : IDisposable
{
    private readonly int _threads;

    public NativeBuffer Activations;
    public NativeBuffer AttentionPartials;
    public NativeBuffer ExpertScratch;

    /// <summary>One buffer per pool thread, indexed by the thread number the pool hands each item.</summary>
    public NativeBuffer* ThreadScratch { get; }

    public float[] RouterScores = [], RouterSelection = [];

    public CpuWorkspace(int threads)
    {
        _threads = threads;
        ThreadScratch = (NativeBuffer*)NativeMemory.AllocZeroed((nuint)threads, (nuint)sizeof(NativeBuffer));
    }

    public void Dispose()
    {
        for (int i = 0; i < _threads; i++) ThreadScratch[i].Free();
        NativeMemory.Free(ThreadScratch);
        Activations.Free();
        AttentionPartials.Free();
        ExpertScratch.Free();
    }
}
