namespace GlmSharp.Kernels.Paging;

/// <summary>
/// One thing a layer keeps for every cached position: <see cref="Heads"/> rows of <see cref="Width"/> values.
/// Keys and values of grouped-query attention are two streams of kv_heads × head_dim; an MLA latent is one stream of
/// kv_lora_rank + rope values, a DSA indexer key another.
/// </summary>
public readonly record struct CacheStream(string Name, int Heads, int Width);

/// <summary>What one layer caches per position, chosen by its architecture.</summary>
public sealed record LayerCacheSpec(IReadOnlyList<CacheStream> Streams)
{
    /// <summary>Keys then values of kvHeads heads each, as grouped-query attention reads them.</summary>
    public static LayerCacheSpec KeysAndValues(int kvHeads, int headDim) =>
        new([new CacheStream("keys", kvHeads, headDim), new CacheStream("values", kvHeads, headDim)]);
}
