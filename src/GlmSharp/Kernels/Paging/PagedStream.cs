namespace GlmSharp.Kernels.Paging;

/// <summary>
/// One layer's storage of one <see cref="CacheStream"/> in the block pool, laid out [block, head, position in block,
/// row]: inside a block each head's rows are contiguous, so attention over a tile of positions of one head scans
/// one run of memory, and a block table only redirects where each run starts.
/// </summary>
public readonly unsafe struct PagedStream
{
    /// <summary>The backend memory holding every block of this stream.</summary>
    public DeviceMemory Memory { get; }

    /// <summary>The memory's host address, for the CPU kernels (null in device memory).</summary>
    internal byte* Base { get; }
    public int Heads { get; }
    public int Width { get; }
    public KvCacheType ElementType { get; }
    public int BlockPositions { get; }

    /// <summary>Bytes of one head row of one position.</summary>
    public int RowBytes { get; }

    /// <summary>Bytes of one head's rows within a block.</summary>
    public long HeadBytes => (long)BlockPositions * RowBytes;

    /// <summary>Bytes of one block of this stream, every head.</summary>
    public long BlockBytes => Heads * HeadBytes;

    internal PagedStream(DeviceMemory memory, CacheStream stream, KvCacheType elementType, int blockPositions)
    {
        Memory = memory;
        Base = memory.HostAddress;
        Heads = stream.Heads;
        Width = stream.Width;
        ElementType = elementType;
        BlockPositions = blockPositions;
        RowBytes = elementType.RowBytes(stream.Width);
    }

    /// <summary>The first row of <paramref name="head"/> in block <paramref name="block"/>.</summary>
    /// <summary>Block <paramref name="block"/> of this stream, every head.</summary>
    public DeviceSpan<byte> Block(int block) => new(Memory, block * BlockBytes, checked((int)BlockBytes));

    internal byte* HeadStart(int block, int head) => Base + block * BlockBytes + head * HeadBytes;
}
