using GlmSharp.Kernels.Paging;

namespace GlmSharp.Models;

/// <summary>
/// One pass of <see cref="Rows"/> batch rows through the layers: their positions ([rows, components]), where they
/// sit in the paged cache, and the working memory to compute them in.
/// </summary>
public readonly ref struct ForwardStep(int rows, ReadOnlySpan<int> positions, CacheRows cache, ForwardScratch scratch)
{
    public int Rows { get; } = rows;
    public ReadOnlySpan<int> Positions { get; } = positions;
    public CacheRows Cache { get; } = cache;
    public ForwardScratch Scratch { get; } = scratch;
}

/// <summary>One layer's part of the paged cache: the streams its <see cref="LayerCacheSpec"/> asked for, in order.</summary>
public readonly struct LayerCache(KvBlockPool pool, int layer)
{
    public PagedStream Stream(int index) => pool.Stream(layer, index);
}
