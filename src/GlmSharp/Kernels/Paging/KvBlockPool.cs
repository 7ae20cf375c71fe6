using GlmSharp.Errors;
using GlmSharp.Tensors;

namespace GlmSharp.Kernels.Paging;

/// <summary>
/// Fixed-size blocks of cache positions for every layer of a model, from one budget. Block b holds positions of one
/// sequence in every layer and stream at once, so one block id per <see cref="BlockPositions"/> positions serves the
/// whole model. Blocks are reference-counted: sequences forked from a common prefix share its blocks until one of
/// them writes into a shared block, which is then copied (<see cref="CopyBlock"/>). The memory is the backend's,
/// allocated once, at the budget (the CPU backend's pages are committed as blocks are first written).
/// </summary>
public sealed class KvBlockPool : IDisposable
{
    private readonly IComputeBackend _backend;
    private readonly DeviceMemory[][] _memory;
    private readonly PagedStream[][] _streams;
    private readonly int[] _references;
    private readonly int[] _free;
    private int _freeCount;
    private bool _disposed;

    public int BlockPositions { get; }
    public int BlockCount { get; }
    public KvCacheType ElementType { get; }

    /// <summary>Bytes one block takes over every layer and stream.</summary>
    public long BytesPerBlock { get; }

    public int FreeBlocks => _freeCount;
    public int UsedBlocks => BlockCount - _freeCount;
    public long UsedBytes => UsedBlocks * BytesPerBlock;
    public long CapacityBytes => BlockCount * BytesPerBlock;

    /// <param name="layers">What each layer caches per position.</param>
    /// <param name="blockCount">Blocks in the pool; every layer holds this many.</param>
    /// <param name="blockPositions">Positions per block: a power of two from 16 to 256, so attention tiles never straddle blocks.</param>
    /// <param name="backend">The backend whose memory holds the blocks and whose kernels read them.</param>
    /// <param name="streamTypes">
    /// Element types of the streams of these names in place of <paramref name="elementType"/>: e.g. a DSA indexer's keys in
    /// Q8_0, which its kernels then score in integer dot products, beside F16 latents.
    /// </param>
    public KvBlockPool(IReadOnlyList<LayerCacheSpec> layers, int blockCount, int blockPositions, KvCacheType elementType, IComputeBackend backend,
        IReadOnlyDictionary<string, KvCacheType>? streamTypes = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(blockCount, 1);
        if (blockPositions < 16 || blockPositions > 256 || (blockPositions & (blockPositions - 1)) != 0)
            throw new ArgumentOutOfRangeException(nameof(blockPositions), blockPositions, "positions per block must be a power of two from 16 to 256");
        foreach (var stream in layers.SelectMany(layer => layer.Streams))
            if (TypeOf(stream, elementType, streamTypes) == KvCacheType.Q8_0 && stream.Width % Q8_0.BlockSize != 0)
                throw new UnsupportedModelException(
                    $"a q8_0 KV cache stores each head row as {Q8_0.BlockSize}-value blocks, so the head size must be a multiple of {Q8_0.BlockSize}; " +
                    $"this model's {stream.Name} head size is {stream.Width} (use --cache-type f16)");
        BlockPositions = blockPositions;
        BlockCount = blockCount;
        ElementType = elementType;
        _backend = backend;
        _memory = new DeviceMemory[layers.Count][];
        _streams = new PagedStream[layers.Count][];
        try
        {
            for (int l = 0; l < layers.Count; l++)
            {
                var streams = layers[l].Streams;
                _memory[l] = new DeviceMemory[streams.Count];
                _streams[l] = new PagedStream[streams.Count];
                for (int s = 0; s < streams.Count; s++)
                {
                    var type = TypeOf(streams[s], elementType, streamTypes);
                    long blockBytes = StreamBlockBytes(streams[s], blockPositions, type);
                    _memory[l][s] = backend.Allocate(blockBytes * blockCount);
                    _streams[l][s] = new PagedStream(_memory[l][s], streams[s], type, blockPositions);
                    BytesPerBlock += blockBytes;
                }
            }
        }
        catch
        {
            Dispose();
            throw;
        }
        _references = new int[blockCount];
        _free = new int[blockCount];
        for (int i = 0; i < blockCount; i++) _free[i] = blockCount - 1 - i;
        _freeCount = blockCount;
    }

    /// <summary>The blocks a budget of <paramref name="bytes"/> pays for, at least one.</summary>
    public static int BlocksFor(long bytes, IReadOnlyList<LayerCacheSpec> layers, int blockPositions, KvCacheType elementType,
        IReadOnlyDictionary<string, KvCacheType>? streamTypes = null)
    {
        long perBlock = layers.SelectMany(layer => layer.Streams).Sum(stream => StreamBlockBytes(stream, blockPositions, TypeOf(stream, elementType, streamTypes)));
        return (int)Math.Clamp(bytes / Math.Max(perBlock, 1), 1, int.MaxValue);
    }

    private static KvCacheType TypeOf(CacheStream stream, KvCacheType elementType, IReadOnlyDictionary<string, KvCacheType>? streamTypes) =>
        streamTypes is not null && streamTypes.TryGetValue(stream.Name, out var type) ? type : elementType;

    private static long StreamBlockBytes(CacheStream stream, int blockPositions, KvCacheType elementType) =>
        (long)stream.Heads * blockPositions * elementType.RowBytes(stream.Width);

    public int Layers => _streams.Length;

    /// <summary>Layer <paramref name="layer"/>'s storage of its stream <paramref name="stream"/>.</summary>
    public PagedStream Stream(int layer, int stream)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _streams[layer][stream];
    }

    /// <summary>Takes a free block (reference count 1); the caller has checked <see cref="FreeBlocks"/>.</summary>
    public int Allocate()
    {
        if (_freeCount == 0) throw new InvalidOperationException("no free block: check FreeBlocks before allocating");
        int block = _free[--_freeCount];
        _references[block] = 1;
        return block;
    }

    public void AddReference(int block) => _references[block]++;

    public bool IsShared(int block) => _references[block] > 1;

    public void Release(int block)
    {
        if (_references[block] <= 0) throw new InvalidOperationException($"block {block} is already free");
        if (--_references[block] == 0) _free[_freeCount++] = block;
    }

    /// <summary>Copies every layer's rows of one block into another (copy-on-write of a shared block).</summary>
    public void CopyBlock(int from, int to)
    {
        foreach (var layer in _streams)
            foreach (var stream in layer)
                _backend.Copy(stream.Block(from), stream.Block(to));
    }

    public void Dispose()
    {
        _disposed = true;
        foreach (var layer in _memory)
            if (layer is not null)
                foreach (var memory in layer) memory?.Dispose();
    }
}
