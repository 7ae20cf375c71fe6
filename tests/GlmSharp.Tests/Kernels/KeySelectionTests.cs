using GlmSharp.Kernels;
using GlmSharp.Kernels.Cpu;
using GlmSharp.Tests.Support;

namespace GlmSharp.Tests.Kernels;

/// <summary>The lightning indexer's top-k: partial selection against a full sort, and the CPU scoring against the formula in doubles.</summary>
public sealed class KeySelectionTests
{
    [Theory]
    [InlineData(1, 1)]
    [InlineData(10, 3)]
    [InlineData(100, 32)]
    [InlineData(257, 256)]
    [InlineData(1000, 1)]
    public void Top_K_Is_The_First_K_Of_A_Full_Sort_With_Ties_To_The_Earlier_Position(int n, int k)
    {
        var random = new Random(n * 31 + k);
        var scores = Enumerable.Range(0, n).Select(_ => (float)random.Next(10)).ToArray(); // many ties
        var chosen = new int[k];
        TopKSelection.Select(scores, new int[n], chosen);

        var expected = Enumerable.Range(0, n).OrderByDescending(i => scores[i]).ThenBy(i => i).Take(k).Order();
        Assert.Equal(expected, chosen);
    }

    /// <summary>
    /// Rows that see more than top-k positions keep positions whose score Σ_h w_h·ReLU(q_h·k_t) is at least that of every
    /// position they leave out; rows that see fewer have no entry. Keys span several cache blocks of a scattered sequence.
    /// </summary>
    [Fact]
    public void Select_Keys_Keeps_The_Highest_Indexer_Scores()
    {
        const int heads = 4, width = 16, cached = 70, rows = 3, topK = 20;
        var random = new Random(5);
        float[] Uniform(int n) => Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        var keys = Uniform((cached + rows) * width);
        var q = Uniform(rows * heads * width);
        var w = Uniform(rows * heads);
        var backend = CpuBackend.Instance;
        using var cache = SingleLayerCache.Latents(cached + rows, width, KvCacheType.F32, blockPositions: 16, scatter: true);
        var chosen = Select(backend, cache, keys, q, w, heads, topK, initial: -7);

        for (int r = 0; r < rows; r++)
        {
            int visible = cached + r + 1;
            var score = ExactScores(keys, q, w, r, visible, heads);
            var kept = chosen[(r * topK)..((r + 1) * topK)];
            Assert.Equal(kept.Order(), kept);
            Assert.Equal(topK, kept.Distinct().Count(t => t >= 0 && t < visible));
            double worstKept = kept.Min(t => score[t]), bestLeft = Enumerable.Range(0, visible).Except(kept).Max(t => score[t]);
            Assert.True(worstKept >= bestLeft - 1e-5, $"row {r}: kept a score of {worstKept} and left out {bestLeft}");
        }

        var untouched = Enumerable.Repeat(-7, rows * 100).ToArray().On(backend);
        backend.SelectKeys(q.On(backend), w.On(backend), cache.Rows, cache.Keys, heads, new KeySelection(untouched, 100));
        Assert.All(backend.ToArray(untouched), slot => Assert.Equal(-7, slot));
    }

    /// <summary>Every kernel path and key type, fp32 scoring (Q8_0 keys decoded) and the int8 indexer (Q8_0 keys only).</summary>
    public static TheoryData<CpuIsa, KvCacheType, bool> ScoringPaths()
    {
        var data = new TheoryData<CpuIsa, KvCacheType, bool>();
        foreach (var isa in (CpuIsa[])[CpuIsa.Scalar, CpuIsa.Avx2, CpuIsa.Avx512])
            if (CpuIsaSupport.IsSupported(isa))
            {
                foreach (var type in Enum.GetValues<KvCacheType>())
                    data.Add(isa, type, false);
                data.Add(isa, KvCacheType.Q8_0, true);
            }
        return data;
    }

    /// <summary>
    /// Every cache type, on every kernel path, keeps the positions the exact scores (doubles over the unrounded keys) rank
    /// first, except near the cut: a position scoring more than 1% of the score range above the k-th best must be kept, one
    /// that far below must be left out. The int8 indexer scores Q8_0 keys in integer dots against Q8_0-quantized queries;
    /// otherwise keys are decoded and scored in fp32. Few positions may fall inside that band, so the test cannot pass by
    /// excusing them.
    /// </summary>
    [Theory]
    [MemberData(nameof(ScoringPaths))]
    public void Every_Key_Type_Keeps_The_Exact_Top_K_Except_Near_The_Cut(CpuIsa isa, KvCacheType type, bool int8)
    {
        const int heads = 8, width = 128, cached = 600, rows = 2, topK = 64;
        var random = new Random(11);
        float[] Uniform(int n) => Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        var keys = Uniform((cached + rows) * width);
        var q = Uniform(rows * heads * width);
        var w = Uniform(rows * heads);
        using var backend = new CpuBackend(threads: 2, isa) { Int8Indexer = int8 };
        using var cache = SingleLayerCache.Latents(cached + rows, width, type, blockPositions: 32, scatter: true);
        var chosen = Select(backend, cache, keys, q, w, heads, topK, initial: 0);

        for (int r = 0; r < rows; r++)
        {
            int visible = cached + r + 1;
            var score = ExactScores(keys, q, w, r, visible, heads);
            double cut = score.OrderDescending().ElementAt(topK - 1), band = 0.01 * (score.Max() - score.Min());
            var kept = chosen[(r * topK)..((r + 1) * topK)].ToHashSet();
            Assert.Equal(topK, kept.Count);
            Assert.True(score.Count(s => Math.Abs(s - cut) <= band) < visible / 10, $"row {r}: too many scores near the cut for the test to mean anything");
            for (int t = 0; t < visible; t++)
            {
                if (score[t] > cut + band) Assert.True(kept.Contains(t), $"{isa} {type} int8 {int8} row {r}: left out position {t} scoring {score[t]:F3}, cut {cut:F3}");
                if (score[t] < cut - band) Assert.False(kept.Contains(t), $"{isa} {type} int8 {int8} row {r}: kept position {t} scoring {score[t]:F3}, cut {cut:F3}");
            }
        }
    }

    /// <summary>
    /// A single row (a decode step) has its positions split between two threads, each scoring its share into one buffer
    /// before the top-k: the same choice as one thread scoring them all, on every path, for a count of positions that
    /// does not divide evenly.
    /// </summary>
    [Theory]
    [MemberData(nameof(ScoringPaths))]
    public void A_Single_Row_Split_Between_Threads_Chooses_As_One_Thread_Does(CpuIsa isa, KvCacheType type, bool int8)
    {
        const int heads = 8, width = 128, cached = 777, topK = 64;
        var random = new Random(13);
        float[] Uniform(int n) => Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        var keys = Uniform((cached + 1) * width);
        var q = Uniform(heads * width);
        var w = Uniform(heads);

        int[] ChosenWith(int threads)
        {
            using var backend = new CpuBackend(threads, isa) { Int8Indexer = int8 };
            using var cache = SingleLayerCache.Latents(cached + 1, width, type, blockPositions: 32, scatter: true);
            return Select(backend, cache, keys, q, w, heads, topK, initial: -1);
        }

        var alone = ChosenWith(threads: 1);
        Assert.DoesNotContain(-1, alone);
        Assert.Equal(alone, ChosenWith(threads: 2));
    }

    /// <summary>
    /// Caches <paramref name="keys"/> (one row of the cache's width per position) and selects for rows at the last
    /// q.Length / (heads · width) slots, into slots that start as <paramref name="initial"/>; returns them.
    /// </summary>
    private static int[] Select(CpuBackend backend, SingleLayerCache cache, float[] keys, float[] q, float[] w, int heads, int topK, int initial)
    {
        int width = cache.Keys.Width, rows = q.Length / (heads * width), cached = keys.Length / width - rows;
        cache.AppendKeys(backend, keys.AsSpan(0, cached * width));
        cache.AppendKeys(backend, keys.AsSpan(cached * width));
        cache.SetRows(cached, rows);
        var slots = Enumerable.Repeat(initial, rows * topK).ToArray().On(backend);
        backend.SelectKeys(q.On(backend), w.On(backend), cache.Rows, cache.Keys, heads, new KeySelection(slots, topK));
        return backend.ToArray(slots);
    }

    /// <summary>Σ_h w_h · ReLU(q_h · k_t) in doubles over the unrounded keys, for row <paramref name="r"/> and each position it sees.</summary>
    private static double[] ExactScores(float[] keys, float[] q, float[] w, int r, int visible, int heads)
    {
        int width = q.Length / w.Length;
        return [.. Enumerable.Range(0, visible).Select(t => Enumerable.Range(0, heads).Sum(h =>
            w[r * heads + h] * Math.Max(0, Enumerable.Range(0, width).Sum(d => (double)q[(r * heads + h) * width + d] * keys[t * width + d]))))];
    }
}
