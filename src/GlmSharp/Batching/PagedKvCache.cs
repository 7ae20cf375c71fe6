using GlmSharp.Errors;
using GlmSharp.Kernels.Paging;

namespace GlmSharp.Batching;

/// <summary>
/// Sequences over a <see cref="KvBlockPool"/>: each has a length and a block table (block i holds its slots
/// [i·B, (i+1)·B)). Sequences are created, forked (the fork shares every block of its source until one of them
/// writes into a shared block, which is then copied), truncated and freed. Growth is all-or-nothing per step: when
/// the pool cannot hold a step, <see cref="KvCacheFullException"/> says so before anything changes.
/// Not thread-safe: one step at a time.
/// </summary>
public sealed class PagedKvCache : IDisposable
{
    private int[][] _tables = [];
    private int[] _tableLengths = [], _lengths = [];
    private bool[] _live = [];
    private readonly Stack<int> _freeIds = new();
    private int _idCount;

    public KvBlockPool Pool { get; }
    public int BlockPositions => Pool.BlockPositions;

    /// <summary>Live sequences.</summary>
    public int SequenceCount { get; private set; }

    public PagedKvCache(KvBlockPool pool) => Pool = pool;

    public int CreateSequence()
    {
        int id;
        if (_freeIds.Count > 0) id = _freeIds.Pop();
        else
        {
            id = _idCount++;
            if (id == _live.Length) GrowIds();
        }
        _live[id] = true;
        _lengths[id] = 0;
        _tableLengths[id] = 0;
        SequenceCount++;
        return id;
    }

    /// <summary>A new sequence holding the same positions as <paramref name="source"/>, sharing its blocks.</summary>
    public int Fork(int source)
    {
        Require(source);
        int fork = CreateSequence();
        int blocks = _tableLengths[source];
        EnsureTable(fork, blocks);
        for (int i = 0; i < blocks; i++)
        {
            int block = _tables[source][i];
            Pool.AddReference(block);
            _tables[fork][i] = block;
        }
        _tableLengths[fork] = blocks;
        _lengths[fork] = _lengths[source];
        return fork;
    }

    /// <summary>Forgets positions from <paramref name="length"/> on, giving back blocks no longer needed.</summary>
    public void Truncate(int sequence, int length)
    {
        Require(sequence);
        if (length < 0 || length > _lengths[sequence])
            throw new ArgumentOutOfRangeException(nameof(length), length, $"sequence {sequence} holds {_lengths[sequence]} positions");
        int keep = BlocksFor(length);
        for (int i = keep; i < _tableLengths[sequence]; i++) Pool.Release(_tables[sequence][i]);
        _tableLengths[sequence] = keep;
        _lengths[sequence] = length;
    }

    public void Free(int sequence)
    {
        Truncate(sequence, 0);
        _live[sequence] = false;
        _freeIds.Push(sequence);
        SequenceCount--;
    }

    /// <summary>One more than the largest sequence id handed out so far.</summary>
    public int IdCapacity => _idCount;

    public bool Exists(int sequence) => (uint)sequence < (uint)_idCount && _live[sequence];

    public int Length(int sequence)
    {
        Require(sequence);
        return _lengths[sequence];
    }

    public ReadOnlySpan<int> BlockTable(int sequence)
    {
        Require(sequence);
        return _tables[sequence].AsSpan(0, _tableLengths[sequence]);
    }

    /// <summary>Blocks that appending <paramref name="rows"/> positions to a sequence takes from the pool.</summary>
    public int BlocksToAppend(int sequence, int rows)
    {
        int length = _lengths[sequence];
        int needed = BlocksFor(length + rows) - _tableLengths[sequence];
        if (rows > 0 && length % BlockPositions != 0 && Pool.IsShared(_tables[sequence][length / BlockPositions])) needed++;
        return needed;
    }

    /// <summary>
    /// Makes room for <c>rows[i]</c> more positions in <c>sequences[i]</c>, each sequence named once, and advances
    /// their lengths; a shared block about to be written is first copied. Throws before any change when the pool is short.
    /// </summary>
    public void Append(ReadOnlySpan<int> sequences, ReadOnlySpan<int> rows)
    {
        int needed = 0;
        for (int i = 0; i < sequences.Length; i++) needed += BlocksToAppend(sequences[i], rows[i]);
        if (needed > Pool.FreeBlocks)
            throw new KvCacheFullException(
                $"the KV cache is full: {Pool.UsedBlocks} of {Pool.BlockCount} blocks of {BlockPositions} positions " +
                $"({Pool.CapacityBytes / (1024.0 * 1024.0):F1} MiB) are in use and this step needs {needed} more; " +
                "free or truncate a sequence, or give the cache a larger budget");
        for (int i = 0; i < sequences.Length; i++) Grow(sequences[i], rows[i]);
    }

    private void Grow(int sequence, int rows)
    {
        int length = _lengths[sequence];
        if (rows > 0 && length % BlockPositions != 0)
        {
            ref int last = ref _tables[sequence][length / BlockPositions];
            if (Pool.IsShared(last))
            {
                int copy = Pool.Allocate();
                Pool.CopyBlock(last, copy);
                Pool.Release(last);
                last = copy;
            }
        }
        int blocks = BlocksFor(length + rows);
        EnsureTable(sequence, blocks);
        for (int i = _tableLengths[sequence]; i < blocks; i++) _tables[sequence][i] = Pool.Allocate();
        _tableLengths[sequence] = blocks;
        _lengths[sequence] = length + rows;
    }

    private int BlocksFor(int positions) => (positions + BlockPositions - 1) / BlockPositions;

    private void EnsureTable(int sequence, int blocks)
    {
        if (_tables[sequence].Length >= blocks) return;
        Array.Resize(ref _tables[sequence], Math.Min(Math.Max(blocks, 2 * _tables[sequence].Length), Math.Max(blocks, Pool.BlockCount)));
    }

    private void GrowIds()
    {
        int capacity = Math.Max(4, 2 * _live.Length);
        Array.Resize(ref _live, capacity);
        Array.Resize(ref _lengths, capacity);
        Array.Resize(ref _tableLengths, capacity);
        int old = _tables.Length;
        Array.Resize(ref _tables, capacity);
        for (int i = old; i < capacity; i++) _tables[i] = new int[4];
    }

    private void Require(int sequence)
    {
        if (!Exists(sequence)) throw new ArgumentException($"sequence {sequence} does not exist (never created, or freed)", nameof(sequence));
    }

    public void Dispose() => Pool.Dispose();
}
