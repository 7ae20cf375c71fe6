using GlmSharp.Batching;
using GlmSharp.Kernels;
using GlmSharp.Kernels.Paging;

namespace GlmSharp.Tests.Support;

/// <summary>
/// One layer's paged keys and values (or, with <see cref="Latents"/>, MLA's one latent stream) for one sequence, for
/// kernel tests. With <c>scatter</c>, a second sequence grows block by block beside it, so the tested sequence's blocks
/// are not adjacent in the pool and attention must follow its block table.
/// </summary>
internal sealed class SingleLayerCache : IDisposable
{
    private readonly PagedKvCache _cache;
    private readonly int _sequence, _neighbour = -1;
    private int[] _slots = [], _tableStarts = [], _blockIds = [];

    public PagedStream Keys => _cache.Pool.Stream(0, 0);
    public PagedStream Values => _cache.Pool.Stream(0, 1);
    public KvBlockPool Pool => _cache.Pool;

    public SingleLayerCache(int positions, int kvHeads, int headDim, KvCacheType type, int blockPositions = 64, bool scatter = false)
        : this(LayerCacheSpec.KeysAndValues(kvHeads, headDim), positions, type, blockPositions, scatter)
    {
    }

    /// <summary>One stream of one head of <paramref name="width"/> per position, as MLA caches its latent.</summary>
    public static SingleLayerCache Latents(int positions, int width, KvCacheType type, int blockPositions, bool scatter) =>
        new(new LayerCacheSpec([new CacheStream("latents", 1, width)]), positions, type, blockPositions, scatter);

    private SingleLayerCache(LayerCacheSpec spec, int positions, KvCacheType type, int blockPositions, bool scatter)
    {
        int blocks = (positions + blockPositions - 1) / blockPositions * (scatter ? 2 : 1);
        _cache = new PagedKvCache(new KvBlockPool([spec], blocks, blockPositions, type, GlmSharp.Kernels.Cpu.CpuBackend.Instance));
        _sequence = _cache.CreateSequence();
        if (scatter) _neighbour = _cache.CreateSequence();
    }

    /// <summary>Appends rows of keys and values ([rows, kvHeads·headDim] each) to the sequence.</summary>
    public void Append(IComputeBackend backend, ReadOnlySpan<float> keys, ReadOnlySpan<float> values)
    {
        AppendKeys(backend, keys);
        backend.StoreRows(Values, Rows, backend.Upload(values));
    }

    /// <summary>Appends rows of the first stream only ([rows, heads·width]): keys, or MLA latents.</summary>
    public void AppendKeys(IComputeBackend backend, ReadOnlySpan<float> keys)
    {
        int width = Keys.Heads * Keys.Width, rows = keys.Length / width, first = _cache.Length(_sequence);
        for (int r = 0; r < rows; r++)
        {
            _cache.Append([_sequence], [1]);
            if (_neighbour >= 0 && _cache.Length(_sequence) % Keys.BlockPositions == 1) _cache.Append([_neighbour], [Keys.BlockPositions]);
        }
        SetRows(first, rows);
        backend.StoreRows(Keys, Rows, backend.Upload(keys));
    }

    /// <summary>Rows at slots [first, first + count) of the sequence, each seeing the slots up to its own.</summary>
    public void SetRows(int first, int count)
    {
        _slots = Enumerable.Range(first, count).ToArray();
        _tableStarts = new int[count];
        _blockIds = _cache.BlockTable(_sequence).ToArray();
    }

    public CacheRows Rows => new(_slots, _tableStarts, _blockIds);

    /// <summary>Attention of rows at slots [first, first + rows) over the sequence.</summary>
    public float[] Attend(IComputeBackend backend, float[] q, int first, int rows, int heads, float scale)
    {
        SetRows(first, rows);
        var output = backend.Allocate<float>(q.Length);
        backend.Attention(q.On(backend), Rows, Keys, Values, output, heads, scale);
        return backend.ToArray(output);
    }

    public void Dispose() => _cache.Dispose();

    /// <summary>Latent attention of rows at slots [first, first + rows): values are each latent row's [valueOffset, valueOffset + valueWidth).</summary>
    public float[] AttendLatent(IComputeBackend backend, float[] q, int first, int rows, int heads, int valueOffset, int valueWidth, float scale)
    {
        SetRows(first, rows);
        var output = backend.Allocate<float>(rows * heads * valueWidth);
        backend.LatentAttention(q.On(backend), Rows, Keys, valueOffset, valueWidth, output, heads, scale);
        return backend.ToArray(output);
    }

    /// <summary>As <see cref="AttendLatent"/>, each row attending only to the slots <paramref name="chosen"/> lists for it ([rows, topK], ascending).</summary>
    public float[] AttendSparseLatent(IComputeBackend backend, float[] q, int first, int rows, int heads, int valueOffset, int valueWidth, float scale,
        int[] chosen, int topK)
    {
        SetRows(first, rows);
        var output = backend.Allocate<float>(rows * heads * valueWidth);
        backend.SparseLatentAttention(q.On(backend), Rows, Keys, valueOffset, valueWidth, output, heads, scale, new KeySelection(backend.Upload<int>(chosen), topK));
        return backend.ToArray(output);
    }
}
