using GlmSharp.Batching;
using GlmSharp.Configs;
using GlmSharp.Kernels;
using GlmSharp.Kernels.Paging;

namespace GlmSharp.Models;

/// <summary>
/// What running a model needs besides its weights, for any number of sequences: the paged cache, laid out as the
/// architecture's layers ask, and one step's working memory. The rows of a step may come from every sequence of the
/// context. Not thread-safe: one step at a time. Dispose it to return the cache's memory.
/// </summary>
public sealed class ModelContext : IDisposable
{
    public PagedKvCache Cache { get; }

    /// <summary>Rows run through the layers together; a longer batch runs in several passes.</summary>
    public int MaxStepRows => Scratch.MaxRows;

    /// <summary>The most positions one sequence may hold.</summary>
    public int MaxSequenceLength { get; }

    internal StepPlan Plan { get; } = new();
    internal ForwardScratch Scratch { get; }

    internal ModelContext(PagedKvCache cache, ForwardScratch scratch, int maxSequenceLength)
    {
        Cache = cache;
        Scratch = scratch;
        MaxSequenceLength = maxSequenceLength;
    }

    public KvBlockPool Pool => Cache.Pool;

    /// <summary>A context over <paramref name="pool"/> with working memory for <paramref name="maxStepRows"/> rows; the pool is disposed if that fails.</summary>
    internal static ModelContext Create(IComputeBackend backend, ModelConfig config, KvBlockPool pool, int maxStepRows, int maxSequenceLength)
    {
        ForwardScratch? scratch = null;
        try
        {
            scratch = new ForwardScratch(backend, config, maxStepRows);
            return new ModelContext(new PagedKvCache(pool), scratch, maxSequenceLength);
        }
        catch
        {
            scratch?.Dispose();
            pool.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        Cache.Dispose();
        Scratch.Dispose();
    }
}
