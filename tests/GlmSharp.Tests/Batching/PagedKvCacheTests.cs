using GlmSharp.Batching;
using GlmSharp.Errors;
using GlmSharp.Kernels;
using GlmSharp.Kernels.Cpu;
using GlmSharp.Kernels.Paging;
using GlmSharp.Models;
using GlmSharp.Tests.Support;

namespace GlmSharp.Tests.Batching;

/// <summary>The paged cache's bookkeeping: blocks per sequence, sharing on fork, copy on write, truncation, exhaustion.</summary>
public sealed class PagedKvCacheTests
{
    private const int Block = 16;
    private static readonly LayerCacheSpec[] TwoLayers = [LayerCacheSpec.KeysAndValues(2, 32), LayerCacheSpec.KeysAndValues(2, 32)];

    private static PagedKvCache NewCache(int blocks) => new(new KvBlockPool(TwoLayers, blocks, Block, KvCacheType.F16, CpuBackend.Instance));

    [Fact]
    public void A_Block_Holds_Every_Layer_And_Stream_Of_Its_Positions()
    {
        using var cache = NewCache(4);
        Assert.Equal(2 * 2 * (2 * Block * 32 * sizeof(ushort)), cache.Pool.BytesPerBlock);
        int s = cache.CreateSequence();
        cache.Append([s], [Block + 1]);
        Assert.Equal(Block + 1, cache.Length(s));
        Assert.Equal(2, cache.BlockTable(s).Length);
        Assert.Equal(2 * cache.Pool.BytesPerBlock, cache.Pool.UsedBytes);
    }

    [Fact]
    public void A_Forked_Prefix_Is_Stored_Once_Until_A_Sequence_Writes_Into_A_Shared_Block()
    {
        using var cache = NewCache(8);
        int parent = cache.CreateSequence();
        cache.Append([parent], [2 * Block + 5]);           // blocks: full, full, partial
        long prefixBytes = cache.Pool.UsedBytes;
        int child = cache.Fork(parent);
        Assert.Equal(cache.Length(parent), cache.Length(child));
        Assert.Equal(prefixBytes, cache.Pool.UsedBytes);   // shared, not copied
        Assert.True(cache.BlockTable(parent).SequenceEqual(cache.BlockTable(child)));

        cache.Append([child], [1]);                         // writes into the shared partial block: copied
        Assert.Equal(prefixBytes + cache.Pool.BytesPerBlock, cache.Pool.UsedBytes);
        Assert.Equal(cache.BlockTable(parent)[..2].ToArray(), cache.BlockTable(child)[..2].ToArray());
        Assert.NotEqual(cache.BlockTable(parent)[2], cache.BlockTable(child)[2]);

        cache.Append([parent], [1]);                        // the parent's partial block is its own again: no copy
        Assert.Equal(prefixBytes + cache.Pool.BytesPerBlock, cache.Pool.UsedBytes);
    }

    [Fact]
    public unsafe void Copy_On_Write_Keeps_The_Shared_Rows_And_Separates_The_New_Ones()
    {
        var backend = CpuBackend.Instance;
        using var cache = new PagedKvCache(new KvBlockPool([LayerCacheSpec.KeysAndValues(1, 2)], 4, Block, KvCacheType.F32, CpuBackend.Instance));
        int parent = cache.CreateSequence();
        cache.Append([parent], [3]);
        Store(cache, parent, 0, [1, 2, 3, 4, 5, 6]);
        int child = cache.Fork(parent);
        cache.Append([child], [1]);
        Store(cache, child, 3, [70, 80]);
        cache.Append([parent], [1]);
        Store(cache, parent, 3, [7, 8]);

        Assert.Equal([1f, 2, 3, 4, 5, 6, 7, 8], Read(cache, parent, 4));
        Assert.Equal([1f, 2, 3, 4, 5, 6, 70, 80], Read(cache, child, 4));

        void Store(PagedKvCache c, int sequence, int first, float[] rows)
        {
            int[] slots = Enumerable.Range(first, rows.Length / 2).ToArray();
            var table = c.BlockTable(sequence).ToArray();
            backend.StoreRows(c.Pool.Stream(0, 0), new CacheRows(slots, new int[slots.Length], table), rows.On(backend));
        }
    }

    private static unsafe float[] Read(PagedKvCache cache, int sequence, int positions)
    {
        var stream = cache.Pool.Stream(0, 0);
        var table = cache.BlockTable(sequence);
        var values = new List<float>();
        for (int slot = 0; slot < positions; slot++)
        {
            float* row = (float*)(stream.HeadStart(table[slot / Block], 0) + slot % Block * stream.RowBytes);
            for (int i = 0; i < stream.Width; i++) values.Add(row[i]);
        }
        return [.. values];
    }

    [Fact]
    public void Truncating_Gives_Back_The_Blocks_Past_The_New_Length_And_Keeps_Shared_Ones()
    {
        using var cache = NewCache(8);
        int s = cache.CreateSequence();
        cache.Append([s], [3 * Block]);
        int fork = cache.Fork(s);
        cache.Truncate(s, Block + 1);
        Assert.Equal(Block + 1, cache.Length(s));
        Assert.Equal(2, cache.BlockTable(s).Length);
        Assert.Equal(3, cache.Pool.UsedBlocks);            // the fork still holds all three
        cache.Free(fork);
        Assert.Equal(2, cache.Pool.UsedBlocks);
        cache.Truncate(s, 0);
        Assert.Equal(0, cache.Pool.UsedBlocks);
        Assert.Throws<ArgumentOutOfRangeException>(() => cache.Truncate(s, 1));
    }

    [Fact]
    public void A_Full_Pool_Refuses_A_Step_Naming_The_Budget_And_Changes_Nothing()
    {
        using var cache = NewCache(3);
        int a = cache.CreateSequence(), b = cache.CreateSequence();
        cache.Append([a], [2 * Block]);
        var error = Assert.Throws<KvCacheFullException>(() => cache.Append([a, b], [1, Block + 1]));
        Assert.Contains("2 of 3 blocks of 16 positions", error.Message);
        Assert.Contains("needs 3 more", error.Message);
        Assert.Equal(2 * Block, cache.Length(a));
        Assert.Equal(0, cache.Length(b));
        Assert.Equal(2, cache.Pool.UsedBlocks);
        cache.Append([b], [Block]);                          // what fits still runs
        Assert.Equal(3, cache.Pool.UsedBlocks);
    }

    [Fact]
    public void Ten_Thousand_Create_Fork_Free_Cycles_Leak_No_Block_And_No_Sequence_Id()
    {
        using var cache = NewCache(6);
        int keeper = cache.CreateSequence();
        cache.Append([keeper], [Block + 3]);
        for (int i = 0; i < 10_000; i++)
        {
            int s = cache.CreateSequence();
            cache.Append([s], [1 + i % (2 * Block)]);
            int f = cache.Fork(i % 3 == 0 ? keeper : s);
            cache.Append([f], [1 + i % 5]);
            cache.Free(s);
            cache.Free(f);
        }
        Assert.Equal(1, cache.SequenceCount);
        Assert.Equal(2, cache.Pool.UsedBlocks);
        Assert.True(cache.IdCapacity <= 3, $"{cache.IdCapacity} sequence ids handed out for at most 3 live sequences");
    }

    [Fact]
    public void A_Freed_Or_Unknown_Sequence_Is_Refused_By_Name()
    {
        using var cache = NewCache(2);
        int s = cache.CreateSequence();
        cache.Free(s);
        Assert.Contains($"sequence {s} does not exist", Assert.Throws<ArgumentException>(() => cache.Length(s)).Message);
        Assert.Contains("sequence 9 does not exist", Assert.Throws<ArgumentException>(() => cache.Fork(9)).Message);
    }
}
