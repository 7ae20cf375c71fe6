using System.Runtime.InteropServices;
using GlmSharp.Batching;
using GlmSharp.Kernels;
using GlmSharp.Kernels.Cpu;
using GlmSharp.Kernels.Paging;
using GlmSharp.Tests.Support;

namespace GlmSharp.Tests.Kernels;

/// <summary>
/// The lightning indexer's fp32 scoring as matrix products (<see cref="IndexerScoreKernel{TLanes}"/>) against
/// Σ_h w_h · ReLU(q_h · k_t) in doubles over the keys as the cache holds them, and the top-k chosen from it.
/// </summary>
public sealed unsafe class IndexerScoreTests
{
    /// <summary>
    /// Rows of sequences scored in one step: (sequence lengths, rows at the end of each). One row (a decode step), rows of
    /// one sequence filling several groups of eight and not a whole one, two sequences of different lengths in one step;
    /// lengths that are no multiple of the 96-position key tile or the 6-position micro-tile.
    /// </summary>
    public static TheoryData<CpuIsa, KvCacheType, int, int[], int[]> Cases()
    {
        var data = new TheoryData<CpuIsa, KvCacheType, int, int[], int[]>();
        foreach (var isa in (CpuIsa[])[CpuIsa.Scalar, CpuIsa.Avx2, CpuIsa.Avx512])
            if (CpuIsaSupport.IsSupported(isa))
                foreach (var type in Enum.GetValues<KvCacheType>())
                    foreach (int threads in (int[])[1, 2])
                    {
                        data.Add(isa, type, threads, [301], [1]);
                        data.Add(isa, type, threads, [203], [19]);
                        data.Add(isa, type, threads, [97, 250], [5, 11]);
                    }
        return data;
    }

    /// <summary>
    /// Every score within the bound of fp32 arithmetic: each dot of n = width products summed in fp32 (fused multiply-adds)
    /// is off by at most γ_n·Σ_d |q_d·k_d| (γ_n ≈ n·2⁻²⁴); ReLU does not widen an error; a weight's product adds one
    /// rounding and the sum over heads at most heads more, each relative to Σ_h |w_h|·|dot_h|. So the score is within
    /// (width + heads + 2)·2⁻²⁴·Σ_h |w_h|·Σ_d |q_hd·k_td| (1.01 for γ's denominator), worst case and not a typical one.
    /// Five heads pad the last head block; width 40 is no multiple of AVX-512's 16 lanes.
    /// </summary>
    [Theory]
    [MemberData(nameof(Cases))]
    public void Scores_Are_The_Formula_In_Doubles_Within_Fp32_Rounding(CpuIsa isa, KvCacheType type, int threads, int[] lengths, int[] rows)
    {
        foreach (var (heads, width) in ((int, int)[])[(5, 128), (32, 64), (3, 40)])
        {
            if (type == KvCacheType.Q8_0 && width % 32 != 0) continue;
            using var cache = new Cache(lengths, rows, width, type, seed: heads * 100 + width);
            var random = new Random(lengths[0] + rows.Sum());
            var q = Uniform(random, cache.RowCount * heads * width);
            var w = Uniform(random, cache.RowCount * heads);
            int longest = cache.Slots.Max() + 1;
            var scores = new float[cache.RowCount * longest];
            using (var pool = new WorkerPool(threads))
            {
                var scratch = (NativeBuffer*)NativeMemory.AllocZeroed((nuint)(threads * sizeof(NativeBuffer)));
                try
                {
                    fixed (float* qp = q, wp = w, sp = scores)
                        CpuKeySelection.Score(pool, isa, int8: false, qp, wp, cache.Rows, cache.Keys, heads, splits: threads, sp, scratch);
                }
                finally
                {
                    for (int i = 0; i < threads; i++) scratch[i].Free();
                    NativeMemory.Free(scratch);
                }
            }

            for (int r = 0; r < cache.RowCount; r++)
            {
                var (exact, bound) = cache.Exact(q, w, r, heads);
                for (int t = 0; t < exact.Length; t++)
                {
                    double error = Math.Abs(scores[r * longest + t] - exact[t]);
                    Assert.True(error <= bound[t], $"{isa} {type} {threads} threads heads {heads} width {width} row {r} position {t}: {scores[r * longest + t]} against {exact[t]}, bound {bound[t]:E2}");
                }
            }
        }
    }

    /// <summary>
    /// The positions kept are the reference's top-k wherever the scores are told apart: a position whose exact score is
    /// more than twice the rounding bound above the k-th best is kept, one that far below is left out. Rows of a prefill
    /// (one item per group of rows) and of a decode step (positions split between threads), top-k just under, at and past
    /// what a row sees (a row seeing no more than k keeps its slots untouched).
    /// </summary>
    [Theory]
    [InlineData(KvCacheType.F16, 2, new[] { 203 }, new[] { 19 }, 64)]
    [InlineData(KvCacheType.F32, 1, new[] { 203 }, new[] { 19 }, 64)]
    [InlineData(KvCacheType.Q8_0, 2, new[] { 97, 250 }, new[] { 5, 11 }, 96)]
    [InlineData(KvCacheType.F16, 2, new[] { 301 }, new[] { 1 }, 100)]
    [InlineData(KvCacheType.F16, 1, new[] { 301 }, new[] { 1 }, 100)]
    [InlineData(KvCacheType.F16, 2, new[] { 70 }, new[] { 4 }, 68)]
    public void Chosen_Positions_Are_The_Exact_Top_K_Where_Scores_Are_Apart(KvCacheType type, int threads, int[] lengths, int[] rows, int topK)
    {
        const int heads = 32, width = 128;
        using var cache = new Cache(lengths, rows, width, type, seed: topK);
        var random = new Random(topK);
        var q = Uniform(random, cache.RowCount * heads * width);
        var w = Uniform(random, cache.RowCount * heads);
        using var backend = new CpuBackend(threads);
        var slots = Enumerable.Repeat(-1, cache.RowCount * topK).ToArray().On(backend);
        backend.SelectKeys(q.On(backend), w.On(backend), cache.Rows, cache.Keys, heads, new KeySelection(slots, topK));
        var chosen = backend.ToArray(slots);

        for (int r = 0; r < cache.RowCount; r++)
        {
            var kept = chosen[(r * topK)..((r + 1) * topK)];
            var (exact, bound) = cache.Exact(q, w, r, heads);
            if (exact.Length <= topK)
            {
                Assert.All(kept, slot => Assert.Equal(-1, slot));
                continue;
            }
            Assert.Equal(kept.Order(), kept);
            Assert.Equal(topK, kept.Distinct().Count(t => t >= 0 && t < exact.Length));
            double cut = exact.OrderDescending().ElementAt(topK - 1);
            var keptSet = kept.ToHashSet();
            for (int t = 0; t < exact.Length; t++)
            {
                if (exact[t] > cut + 2 * bound.Max()) Assert.True(keptSet.Contains(t), $"row {r}: left out position {t} scoring {exact[t]}, cut {cut}");
                if (exact[t] < cut - 2 * bound.Max()) Assert.False(keptSet.Contains(t), $"row {r}: kept position {t} scoring {exact[t]}, cut {cut}");
            }
        }
    }

    private static float[] Uniform(Random random, int n) => [.. Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() * 2 - 1))];

    /// <summary>
    /// One layer's indexer keys for several sequences whose blocks interleave in the pool, and rows at the last
    /// <c>rows[s]</c> slots of each sequence s, their block tables side by side as a step lays them out.
    /// </summary>
    private sealed class Cache : IDisposable
    {
        private const int BlockPositions = 16;
        private readonly PagedKvCache _cache;
        private readonly int[] _tableStarts, _blockIds;

        public int[] Slots { get; }
        public int RowCount => Slots.Length;
        public PagedStream Keys => _cache.Pool.Stream(0, 0);
        public CacheRows Rows => new(Slots, _tableStarts, _blockIds);

        public Cache(int[] lengths, int[] rows, int width, KvCacheType type, int seed)
        {
            var backend = CpuBackend.Instance;
            int blocks = lengths.Sum(length => (length + BlockPositions - 1) / BlockPositions);
            _cache = new PagedKvCache(new KvBlockPool([new LayerCacheSpec([new CacheStream("indexer keys", 1, width)])], blocks, BlockPositions, type, backend));
            var sequences = lengths.Select(_ => _cache.CreateSequence()).ToArray();
            var random = new Random(seed);
            for (int start = 0; start < lengths.Max(); start += BlockPositions) // a block of each sequence in turn: their blocks interleave
                for (int s = 0; s < lengths.Length; s++)
                {
                    int count = Math.Min(BlockPositions, lengths[s] - start);
                    if (count <= 0) continue;
                    _cache.Append([sequences[s]], [count]);
                    int[] slots = [.. Enumerable.Range(start, count)];
                    backend.StoreRows(Keys, new CacheRows(slots, new int[count], _cache.BlockTable(sequences[s])), backend.Upload<float>(Uniform(random, count * width)));
                }

            var allSlots = new List<int>();
            var tableStarts = new List<int>();
            var blockIds = new List<int>();
            for (int s = 0; s < lengths.Length; s++)
            {
                for (int slot = lengths[s] - rows[s]; slot < lengths[s]; slot++)
                {
                    allSlots.Add(slot);
                    tableStarts.Add(blockIds.Count);
                }
                blockIds.AddRange(_cache.BlockTable(sequences[s]).ToArray());
            }
            Slots = [.. allSlots];
            _tableStarts = [.. tableStarts];
            _blockIds = [.. blockIds];
        }

        /// <summary>
        /// Row r's exact score of each position it sees, in doubles over the cached keys, and the fp32 rounding bound of
        /// each: (width + heads + 2)·2⁻²⁴·1.01·Σ_h |w_h|·Σ_d |q_hd·k_td|.
        /// </summary>
        public (double[] Scores, double[] Bounds) Exact(float[] q, float[] w, int r, int heads)
        {
            int width = Keys.Width, visible = Slots[r] + 1;
            var scores = new double[visible];
            var bounds = new double[visible];
            double unit = Math.ScaleB(1.0, -24) * 1.01 * (width + heads + 2);
            for (int t = 0; t < visible; t++)
            {
                var key = Key(r, t);
                double score = 0, magnitude = 0;
                for (int h = 0; h < heads; h++)
                {
                    double dot = 0, absolute = 0;
                    for (int d = 0; d < width; d++)
                    {
                        double product = (double)q[(r * heads + h) * width + d] * key[d];
                        dot += product;
                        absolute += Math.Abs(product);
                    }
                    score += w[r * heads + h] * Math.Max(0, dot);
                    magnitude += Math.Abs(w[r * heads + h]) * absolute;
                }
                scores[t] = score;
                bounds[t] = unit * magnitude;
            }
            return (scores, bounds);
        }

        /// <summary>Position t of row r's sequence as the cache holds it, decoded here from its bytes.</summary>
        private double[] Key(int r, int t)
        {
            var keys = Keys;
            byte* row = keys.Base + _blockIds[_tableStarts[r] + t / BlockPositions] * keys.BlockBytes + (long)(t % BlockPositions) * keys.RowBytes;
            var key = new double[keys.Width];
            for (int d = 0; d < keys.Width; d++)
                key[d] = keys.ElementType switch
                {
                    KvCacheType.F32 => ((float*)row)[d],
                    KvCacheType.F16 => (double)((Half*)row)[d],
                    _ => (double)*(Half*)(row + d / 32 * 34) * ((sbyte*)row)[d / 32 * 34 + 2 + d % 32],
                };
            return key;
        }

        public void Dispose() => _cache.Dispose();
    }
}
