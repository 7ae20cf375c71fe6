using GlmSharp.Batching;
using GlmSharp.Kernels;
using GlmSharp.Kernels.Cpu;
using GlmSharp.Kernels.Paging;
using GlmSharp.Serving;

namespace GlmSharp.Tests.Serving;

/// <summary>The prefix cache's bookkeeping on a paged cache of 16-position blocks: what a prompt reuses, what is kept, what is freed.</summary>
public sealed class PrefixCacheTests : IDisposable
{
    private const int Block = 16;
    private readonly PagedKvCache _cache = new(new KvBlockPool([LayerCacheSpec.KeysAndValues(1, 32)], 16, Block, KvCacheType.F16, CpuBackend.Instance));

    public void Dispose() => _cache.Dispose();

    private static int[] Tokens(int first, int count) => [.. Enumerable.Range(first, count)];

    /// <summary>A finished request's sequence holding <paramref name="tokens"/>, retired into <paramref name="prefixes"/>.</summary>
    private int Retire(PrefixCache prefixes, int[] tokens)
    {
        int sequence = _cache.CreateSequence();
        _cache.Append([sequence], [tokens.Length]);
        prefixes.Retire(sequence, tokens);
        return sequence;
    }

    [Fact]
    public void A_Prompt_Forks_The_Longest_Cached_Prefix_But_Computes_Its_Last_Token_Itself()
    {
        var prefixes = new PrefixCache(_cache, capacity: 8);
        int longer = Retire(prefixes, Tokens(0, 40));
        Retire(prefixes, [.. Tokens(0, 10), .. Tokens(100, 10)]);

        var (sequence, reused) = prefixes.Open([.. Tokens(0, 30), 500]);
        Assert.Equal(30, reused);
        Assert.Equal(30, _cache.Length(sequence));
        Assert.Equal(_cache.BlockTable(longer)[..2].ToArray(), _cache.BlockTable(sequence).ToArray());

        (_, reused) = prefixes.Open(Tokens(0, 40));
        Assert.Equal(39, reused);

        (sequence, reused) = prefixes.Open([7, 8, 9]);
        Assert.Equal(0, reused);
        Assert.Equal(0, _cache.Length(sequence));
    }

    [Fact]
    public void One_Entry_Is_Kept_Per_Chain_Of_Prefixes()
    {
        var prefixes = new PrefixCache(_cache, capacity: 8);
        Retire(prefixes, Tokens(0, 20));
        Retire(prefixes, Tokens(0, 40));
        Assert.Equal(1, prefixes.Count);
        Assert.Equal(3, _cache.Pool.UsedBlocks);

        Retire(prefixes, Tokens(0, 17));
        Assert.Equal(1, prefixes.Count);
        Assert.Equal(3, _cache.Pool.UsedBlocks);
    }

    [Fact]
    public void Entries_Over_Capacity_And_Evicted_Ones_Go_Least_Recently_Used_First_And_Free_Their_Blocks()
    {
        var prefixes = new PrefixCache(_cache, capacity: 2);
        Retire(prefixes, Tokens(0, 20));
        Retire(prefixes, Tokens(1000, 20));
        int reusedFirst = prefixes.Open(Tokens(0, 21)).Reused;
        Retire(prefixes, Tokens(2000, 20));
        Assert.Equal(20, reusedFirst);
        Assert.Equal(2, prefixes.Count);
        Assert.Equal(0, prefixes.Open(Tokens(1000, 21)).Reused);

        int used = _cache.Pool.UsedBlocks;
        Assert.True(prefixes.EvictOldest());
        Assert.True(prefixes.EvictOldest());
        Assert.False(prefixes.EvictOldest());
        Assert.Equal(used - 4 + 2, _cache.Pool.UsedBlocks);
    }

    [Fact]
    public void Idle_Blocks_Are_Those_No_Running_Sequence_Shares()
    {
        var prefixes = new PrefixCache(_cache, capacity: 8);
        Retire(prefixes, Tokens(0, 40));
        var (sequence, _) = prefixes.Open([.. Tokens(0, 35), 7]);
        Assert.Equal(3, prefixes.IdleBlocks([]));
        Assert.Equal(0, prefixes.IdleBlocks([sequence]));

        _cache.Append([sequence], [1]);
        Assert.Equal(1, prefixes.IdleBlocks([sequence]));
    }

    [Fact]
    public void With_No_Capacity_Nothing_Is_Kept()
    {
        var prefixes = new PrefixCache(_cache, capacity: 0);
        Retire(prefixes, Tokens(0, 40));
        Assert.Equal(0, prefixes.Count);
        Assert.Equal(0, _cache.Pool.UsedBlocks);
        Assert.Equal(0, prefixes.Open(Tokens(0, 40)).Reused);
    }
}
