using GlmSharp.Batching;
using GlmSharp.Kernels;

namespace GlmSharp.Models;

/// <summary>
/// One conversation with a model: a context holding a single sequence, run through the same batched step as many
/// sequences are. Not thread-safe; use one session per concurrent sequence, or one <see cref="ModelContext"/> with a
/// sequence each. The cache and activations live in the backend's memory: dispose the session to return it.
/// </summary>
public sealed class ModelSession : IDisposable
{
    public ModelContext Context { get; }
    public int Sequence { get; }
    public int ContextLength { get; }
    internal Batch Batch { get; }

    public KvCacheType CacheType => Context.Pool.ElementType;

    /// <summary>Bytes of cache every position takes, over all layers.</summary>
    public long CacheBytesPerPosition => Context.Pool.BytesPerBlock / Context.Pool.BlockPositions;

    /// <summary>Number of tokens already in the cache; the next token goes to this position.</summary>
    public int Length => Context.Cache.Length(Sequence);

    internal ModelSession(ModelContext context, int contextLength, int positionComponents)
    {
        Batch = new Batch(positionComponents: positionComponents);
        Context = context;
        ContextLength = contextLength;
        Sequence = context.Cache.CreateSequence();
    }

    /// <summary>Forgets cached positions from <paramref name="length"/> on (e.g. to reuse a shared prompt prefix).</summary>
    public void Truncate(int length) => Context.Cache.Truncate(Sequence, length);

    public void Dispose() => Context.Dispose();
}
