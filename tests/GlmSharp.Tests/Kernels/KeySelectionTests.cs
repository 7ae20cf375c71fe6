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
        cache.AppendKeys(backend, keys.AsSpan(0, cached * width));
        cache.AppendKeys(backend, keys.AsSpan(cached * width));
        cache.SetRows(cached, rows);
        var slots = Enumerable.Repeat(-7, rows * topK).ToArray().On(backend);
        backend.SelectKeys(q.On(backend), w.On(backend), cache.Rows, cache.Keys, heads, new KeySelection(slots, topK));
        var chosen = backend.ToArray(slots);

        for (int r = 0; r < rows; r++)
        {
            int visible = cached + r + 1;
            var score = Enumerable.Range(0, visible).Select(t => Enumerable.Range(0, heads).Sum(h =>
                w[r * heads + h] * Math.Max(0, Enumerable.Range(0, width).Sum(d => (double)q[(r * heads + h) * width + d] * keys[t * width + d])))).ToArray();
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
}
