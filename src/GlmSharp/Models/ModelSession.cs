using GlmSharp.Configs;
using GlmSharp.Kernels;

namespace GlmSharp.Models;

/// <summary>
/// The state of one conversation with a model: its KV cache (one per layer), how many positions are filled,
/// and the activation buffers. Not thread-safe; use one session per concurrent sequence. The caches live in native
/// memory: dispose the session to return it.
/// </summary>
public sealed class ModelSession : IDisposable
{
    public LayerKvCache[] Layers { get; }
    public ForwardScratch Scratch { get; }
    public int ContextLength { get; }
    public KvCacheType CacheType { get; }

    /// <summary>Bytes of keys and values every cached position takes, over all layers.</summary>
    public long CacheBytesPerPosition => Layers.Sum(layer => layer.BytesPerPosition);

    /// <summary>Number of tokens already in the cache; the next token goes to this position.</summary>
    public int Length { get; internal set; }

    internal ModelSession(ModelConfig config, int contextLength, int maxBatchRows, KvCacheType cacheType)
    {
        ContextLength = contextLength;
        CacheType = cacheType;
        Layers = new LayerKvCache[config.NumLayers];
        try
        {
            for (int i = 0; i < Layers.Length; i++) Layers[i] = new LayerKvCache(contextLength, config.NumKvHeads, config.HeadDim, cacheType);
        }
        catch
        {
            Dispose();
            throw;
        }
        Scratch = new ForwardScratch(config, maxBatchRows);
    }

    /// <summary>Forgets cached positions from <paramref name="length"/> on (e.g. to reuse a shared prompt prefix).</summary>
    public void Truncate(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, Length);
        Length = length;
    }

    public void Dispose()
    {
        foreach (var layer in Layers) layer?.Dispose();
    }
}
