using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using GlmSharp.Tensors;

namespace GlmSharp.Kernels.Cpu;

/// <summary>
/// The lightning indexer's fp32 scoring of a group of rows as matrix products, the way llama.cpp computes it (one fp32
/// product per layer): a tile of cached keys is widened to fp32 once for the whole group, and each row's scores over it,
/// Σ_h w_h · ReLU(q_h · k_t), come from micro-tiles of <see cref="Positions"/> positions × two registers of heads. Each
/// row's queries are packed once per item into dimension-major blocks of two registers of heads, so a step of the
/// micro-tile loads two query registers and broadcasts one value of each of the six keys into twelve accumulators whose
/// every lane is one (head, position) dot: no horizontal sums until ReLU, the weights and the head sum at the end.
/// Measured against the per-position dots this replaces (one head at a time, each key widened again per row), F16 keys,
/// 2 AVX2 threads: a prefill step of 512 rows at depth 4K/16K from 10 to 63/79 GFLOP/s, a decode row at 16K/64K from
/// 12.9/51.3 to 1.8/8.0 ms.
/// </summary>
internal static unsafe class IndexerScoreKernel<TLanes> where TLanes : struct, IFloatLanes<TLanes>
{
    /// <summary>Positions per micro-tile: 12 accumulators, 2 query registers and a broadcast fill AVX2's 16 registers.</summary>
    public const int Positions = 6;
    /// <summary>Positions widened at once: 48 KiB of fp32 keys at width 128, reused by every row of the group from L2.</summary>
    public const int Tile = 16 * Positions;

    private static int HeadBlock => 2 * TLanes.Count;

    /// <summary>Heads rounded up to whole blocks; the padding heads have zero queries and weights, so they add nothing.</summary>
    public static int PaddedHeads(int heads) => (heads + HeadBlock - 1) / HeadBlock * HeadBlock;

    /// <summary>Bytes of one thread's packed queries, weights and key tile for groups of up to <paramref name="rows"/> rows.</summary>
    public static long ScratchBytes(int rows, int heads, int width) =>
        ((long)rows * PaddedHeads(heads) * (width + 1) + (long)Tile * width) * sizeof(float);

    /// <summary>
    /// Scores of positions [begin, end) for the group's rows into scores[g·stride + t]; a row takes only the positions it
    /// sees (t ≤ its slot), and rows that see no more than top-k are skipped (every position is kept).
    /// </summary>
    [MethodImpl(KernelRoot.Options)]
    public static void ScoreGroup(CpuKeySelection.Job* job, int firstRow, int rows, int begin, int end, float* scores, long stride, byte* scratch)
    {
        int width = job->Width, heads = job->Heads, padded = PaddedHeads(heads);
        float* queries = (float*)scratch, weights = queries + (long)rows * padded * width, tile = weights + (long)rows * padded;
        for (int g = 0; g < rows; g++)
            Pack(job->Q + (long)(firstRow + g) * heads * width, job->Weights + (long)(firstRow + g) * heads, heads, width,
                queries + (long)g * padded * width, weights + (long)g * padded);
        int* table = job->BlockIds + job->TableStarts[firstRow];
        for (int t0 = begin; t0 < end; t0 += Tile)
        {
            int n = Math.Min(Tile, end - t0);
            Widen(job, table, t0, n, tile);
            for (int g = 0; g < rows; g++)
            {
                int visible = job->Slots[firstRow + g] + 1;
                if (visible <= job->TopK || t0 >= visible) continue;
                Score(queries + (long)g * padded * width, weights + (long)g * padded, padded, width, tile, Math.Min(n, visible - t0),
                    scores + g * stride + t0);
            }
        }
    }

    /// <summary>
    /// q [heads, width] into [heads / block][width][block] (a block is two registers of heads), w [heads] into [padded heads],
    /// zeros in the padding.
    /// </summary>
    [MethodImpl(KernelRoot.Options)]
    private static void Pack(float* q, float* w, int heads, int width, float* packed, float* packedWeights)
    {
        int padded = PaddedHeads(heads), block = HeadBlock;
        for (int h = 0; h < padded; h++)
        {
            float* destination = packed + (long)(h / block) * width * block + h % block;
            if (h < heads)
                for (int d = 0; d < width; d++) destination[(long)d * block] = q[(long)h * width + d];
            else
                for (int d = 0; d < width; d++) destination[(long)d * block] = 0;
            packedWeights[h] = h < heads ? w[h] : 0;
        }
    }

    /// <summary>Widens cached positions [first, first + n) to fp32 rows of the tile, and zeros up to a whole micro-tile (its padding positions are computed, not stored).</summary>
    [MethodImpl(KernelRoot.Options)]
    private static void Widen(CpuKeySelection.Job* job, int* table, int first, int n, float* tile)
    {
        int width = job->Width;
        for (int t = 0; t < n; t++)
        {
            byte* row = job->KeyRow(table, first + t);
            float* destination = tile + (long)t * width;
            switch (job->KeyType)
            {
                case KvCacheType.F32: WidenRow<F32Load>(row, destination, width); break;
                case KvCacheType.F16: WidenRow<F16Load>(row, destination, width); break;
                default: Q8_0.Dequantize(new ReadOnlySpan<byte>(row, job->RowBytes), new Span<float>(destination, width)); break;
            }
        }
        int whole = (n + Positions - 1) / Positions * Positions;
        new Span<float>(tile + (long)n * width, (whole - n) * width).Clear();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void WidenRow<TRow>(byte* row, float* destination, int width) where TRow : IFloatLoad
    {
        for (int d = 0; d < width; d += TLanes.Count) TLanes.Store(TLanes.Load<TRow>(row, d), destination + d);
    }

    /// <summary>scores[t] = Σ_h w_h · ReLU(q_h · k_t) for the tile's first <paramref name="n"/> positions, one head block at a time.</summary>
    [MethodImpl(KernelRoot.Options)]
    private static void Score(float* queries, float* weights, int padded, int width, float* tile, int n, float* scores)
    {
        new Span<float>(scores, n).Clear();
        for (int t = 0; t < n; t += Positions)
            for (int h = 0; h < padded; h += HeadBlock)
                MicroTile(queries + (long)h * width, weights + h, width, tile + (long)t * width, scores + t, Math.Min(Positions, n - t));
    }

    /// <summary>
    /// One head block against six positions: c[j, h] = Σ_d q[d, h]·k_j[d] with the block's heads across the two registers,
    /// then scores[j] += Σ_h w_h · ReLU(c[j, h]) for the <paramref name="count"/> positions that are real.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void MicroTile(float* queries, float* weights, int width, float* keys, float* scores, int count)
    {
        float* k0 = keys, k1 = k0 + width, k2 = k1 + width, k3 = k2 + width, k4 = k3 + width, k5 = k4 + width;
        TLanes c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        TLanes c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        float* q = queries;
        for (int d = 0; d < width; d++, q += HeadBlock)
        {
            TLanes low = TLanes.Load(q), high = TLanes.Load(q + TLanes.Count);
            var key = TLanes.Broadcast(k0[d]);
            c00 = TLanes.MultiplyAdd(low, key, c00);
            c01 = TLanes.MultiplyAdd(high, key, c01);
            key = TLanes.Broadcast(k1[d]);
            c10 = TLanes.MultiplyAdd(low, key, c10);
            c11 = TLanes.MultiplyAdd(high, key, c11);
            key = TLanes.Broadcast(k2[d]);
            c20 = TLanes.MultiplyAdd(low, key, c20);
            c21 = TLanes.MultiplyAdd(high, key, c21);
            key = TLanes.Broadcast(k3[d]);
            c30 = TLanes.MultiplyAdd(low, key, c30);
            c31 = TLanes.MultiplyAdd(high, key, c31);
            key = TLanes.Broadcast(k4[d]);
            c40 = TLanes.MultiplyAdd(low, key, c40);
            c41 = TLanes.MultiplyAdd(high, key, c41);
            key = TLanes.Broadcast(k5[d]);
            c50 = TLanes.MultiplyAdd(low, key, c50);
            c51 = TLanes.MultiplyAdd(high, key, c51);
        }
        TLanes wLow = TLanes.Load(weights), wHigh = TLanes.Load(weights + TLanes.Count);
        var first = TLanes.Sum4(Weigh(c00, c01, wLow, wHigh), Weigh(c10, c11, wLow, wHigh), Weigh(c20, c21, wLow, wHigh), Weigh(c30, c31, wLow, wHigh));
        var last = Vector128.Create(TLanes.Sum(Weigh(c40, c41, wLow, wHigh)), TLanes.Sum(Weigh(c50, c51, wLow, wHigh)), 0, 0);
        for (int j = 0; j < count; j++) scores[j] += j < 4 ? first.GetElement(j) : last.GetElement(j - 4);
    }

    /// <summary>w · ReLU(c) over both registers of a head block, summed lane by lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TLanes Weigh(TLanes low, TLanes high, TLanes wLow, TLanes wHigh) =>
        TLanes.MultiplyAdd(TLanes.Max(high, default), wHigh, TLanes.Multiply(TLanes.Max(low, default), wLow));
}
