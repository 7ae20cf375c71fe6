using System.Numerics.Tensors;
using System.Runtime.CompilerServices;

namespace GlmSharp.Kernels.Cpu;

/// <summary>
/// The body of one <see cref="CpuAttention"/> work item for MLA's absorbed attention (one kv head, every query head reading
/// the same cached latent row), as two matrix products per tile in the way llama.cpp computes it:
/// scores [tile × heads] = L [tile × width] · Qᵀ [width × heads], then an online softmax per head, then
/// out [heads × value] += Pᵀ [heads × tile] · V [tile × value], V being the latent part of the same rows.
/// A tile's rows are widened to fp32 once, whatever the head count, where the grouped-query kernel widened each row
/// again for every four heads; both products then run register-blocked micro-tiles (positions × head registers, and heads
/// × value registers) whose every load feeds several accumulators. The queries are packed once per item, head-minor
/// in panels of two registers of heads, so a score micro-tile is an outer product with no horizontal sums.
/// </summary>
internal static unsafe class LatentAttentionKernel<TLanes, TRow>
    where TLanes : struct, IFloatLanes<TLanes>
    where TRow : IFloatLoad
{
    private const int Tile = CpuAttention.Tile;
    /// <summary>Cached rows per score micro-tile: four broadcast keys against two registers of heads, 8 accumulators.</summary>
    private const int Positions = LatentScratch.Positions;
    /// <summary>Heads per value micro-tile: four broadcast weights against two registers of value dimensions.</summary>
    private const int HeadsPerPass = 4;
    private static int Width => TLanes.Count;
    private static int Panel => 2 * TLanes.Count;
    private static bool HalfKeys => typeof(TRow) == typeof(F16Load);

    [MethodImpl(KernelRoot.Options)]
    public static void RunItem(void* context, int item, int thread)
    {
        var job = (CpuAttention.Job*)context;
        int splits = job->Splits, heads = job->Group, headDim = job->HeadDim, valueDim = job->ValueDim;
        int split = item % splits, r = item / splits; // one kv head: an item is a row and a stretch of its positions
        int begin = split * job->SplitLength, end = Math.Min(begin + job->SplitLength, job->Attended(r, out int* chosen));
        float* output = splits == 1 ? job->Output + (long)r * heads * valueDim : job->Partials + item * job->PartialFloats;
        var scratch = new LatentScratch((float*)job->Scratch[thread].Pointer, heads, headDim, Width);
        int padded = scratch.PaddedHeads;
        PackQueries(job->Q + (long)r * heads * headDim, heads, headDim, scratch);
        new Span<float>(output, heads * valueDim).Clear();
        new Span<float>(scratch.Maxima, padded).Fill(float.NegativeInfinity);
        new Span<float>(scratch.Sums, padded).Clear();

        int* table = job->BlockIds + job->TableStarts[r];
        int valueColumn = (int)((job->Values - job->Keys) / TRow.ElementBytes); // the value is the row from here on
        int tile = chosen != null ? Tile : job->TilePositions; // a gathered tile is one run however its slots lie in blocks
        for (int t0 = begin; t0 < end; t0 += tile)
        {
            int n = Math.Min(tile, end - t0);
            if (chosen != null) WidenChosen(job, table, chosen, t0, n, end, scratch.Rows);
            else WidenDense(job, table, t0, n, t0 + tile < end ? job->Keys + job->Offset(table, t0 + tile, 0) : null, scratch.Rows);
            int rows = (n + Positions - 1) / Positions * Positions;
            new Span<float>(scratch.Rows + (long)n * headDim, (rows - n) * headDim).Clear(); // a partial micro-tile's missing rows score 0, unread
            Scores(scratch, headDim, rows, job->Scale);
            Fold(scratch, n, heads, output, valueDim);
            Accumulate(scratch, n, heads, headDim, scratch.Rows + valueColumn, valueDim, output);
        }

        if (splits == 1)
            for (int h = 0; h < heads; h++)
            {
                var row = new Span<float>(output + (long)h * valueDim, valueDim);
                TensorPrimitives.Multiply(row, 1f / scratch.Sums[h], row);
            }
        else
        {
            new Span<float>(scratch.Maxima, heads).CopyTo(new Span<float>(output + (long)heads * valueDim, heads));
            new Span<float>(scratch.Sums, heads).CopyTo(new Span<float>(output + (long)heads * valueDim + heads, heads));
        }
    }

    /// <summary>
    /// Qᵀ in panels of <see cref="Panel"/> heads ([width, panel] each; the last may be one register), padded heads zero.
    /// F16 caches meet the queries rounded to fp16, as llama.cpp rounds them (its vec_dot_type for F16 is F16), so each
    /// product is exact in fp32 and the scores differ from its only in summation order.
    /// </summary>
    private static void PackQueries(float* q, int heads, int headDim, LatentScratch scratch)
    {
        new Span<float>(scratch.Queries, scratch.PaddedHeads * headDim).Clear();
        var row = new Span<float>(scratch.QueryRow, headDim);
        for (int h = 0; h < heads; h++)
        {
            var source = new ReadOnlySpan<float>(q + (long)h * headDim, headDim);
            if (HalfKeys)
            {
                var halves = new Span<Half>(scratch.QueryHalves, headDim);
                TensorPrimitives.ConvertToHalf(source, halves);
                TensorPrimitives.ConvertToSingle(halves, row);
            }
            else source.CopyTo(row);
            int first = h / Panel * Panel, width = Math.Min(Panel, scratch.PaddedHeads - first);
            float* panel = scratch.Queries + (long)first * headDim + (h - first);
            for (int d = 0; d < headDim; d++) panel[(long)d * width] = row[d];
        }
    }

    /// <summary>Widens the n contiguous cached rows of a dense tile to fp32, asking for the next tile's rows as it goes.</summary>
    private static void WidenDense(CpuAttention.Job* job, int* table, int first, int n, byte* next, float* rows)
    {
        int rowBytes = job->RowBytes, headDim = job->HeadDim;
        byte* source = job->Keys + job->Offset(table, first, 0);
        for (int t = 0; t < n; t++)
        {
            if (next != null) StreamPrefetch.Range(next + (long)t * rowBytes, rowBytes);
            Widen(source + (long)t * rowBytes, rows + (long)t * headDim, headDim);
        }
    }

    /// <summary>Rows the widening asks for ahead of the one it reads, so that the misses of several scattered rows overlap.</summary>
    private const int GatherAhead = 8;

    /// <summary>Widens the cached rows of chosen[first .. first + n) to fp32 side by side, straight from their pages.</summary>
    private static void WidenChosen(CpuAttention.Job* job, int* table, int* chosen, int first, int n, int end, float* rows)
    {
        int rowBytes = job->RowBytes, headDim = job->HeadDim;
        int ahead = Math.Min(first + GatherAhead, end);
        for (int i = first; i < ahead; i++) StreamPrefetch.Range(job->Keys + job->Offset(table, chosen[i], 0), rowBytes);
        for (int t = 0; t < n; t++)
        {
            if (first + t + GatherAhead < end) StreamPrefetch.Range(job->Keys + job->Offset(table, chosen[first + t + GatherAhead], 0), rowBytes);
            Widen(job->Keys + job->Offset(table, chosen[first + t], 0), rows + (long)t * headDim, headDim);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Widen(byte* source, float* destination, int count)
    {
        for (int d = 0; d < count; d += Width) TLanes.Store(TLanes.Load<TRow>(source, d), destination + d);
    }

    /// <summary>scores[t, h] = scale · l_t · q_h for the tile's rows (a multiple of <see cref="Positions"/>) and every padded head.</summary>
    private static void Scores(LatentScratch scratch, int headDim, int rows, float scale)
    {
        int padded = scratch.PaddedHeads;
        var scaling = TLanes.Broadcast(scale);
        for (int first = 0; first < padded; first += Panel)
        {
            float* panel = scratch.Queries + (long)first * headDim;
            float* scores = scratch.Scores + first;
            if (padded - first >= Panel)
                for (int t = 0; t < rows; t += Positions)
                    ScoresTwoRegisters(scratch.Rows + (long)t * headDim, headDim, panel, scores + (long)t * padded, padded, scaling);
            else
                for (int t = 0; t < rows; t += Positions)
                    ScoresOneRegister(scratch.Rows + (long)t * headDim, headDim, panel, scores + (long)t * padded, padded, scaling);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ScoresTwoRegisters(float* keys, int headDim, float* panel, float* scores, int stride, TLanes scaling)
    {
        float* k0 = keys, k1 = k0 + headDim, k2 = k1 + headDim, k3 = k2 + headDim;
        TLanes a00 = default, a01 = default, a10 = default, a11 = default, a20 = default, a21 = default, a30 = default, a31 = default;
        float* q = panel;
        for (int d = 0; d < headDim; d++, q += Panel)
        {
            TLanes q0 = TLanes.Load(q), q1 = TLanes.Load(q + Width);
            var key = TLanes.Broadcast(k0[d]);
            a00 = TLanes.MultiplyAdd(key, q0, a00);
            a01 = TLanes.MultiplyAdd(key, q1, a01);
            key = TLanes.Broadcast(k1[d]);
            a10 = TLanes.MultiplyAdd(key, q0, a10);
            a11 = TLanes.MultiplyAdd(key, q1, a11);
            key = TLanes.Broadcast(k2[d]);
            a20 = TLanes.MultiplyAdd(key, q0, a20);
            a21 = TLanes.MultiplyAdd(key, q1, a21);
            key = TLanes.Broadcast(k3[d]);
            a30 = TLanes.MultiplyAdd(key, q0, a30);
            a31 = TLanes.MultiplyAdd(key, q1, a31);
        }
        StoreScaled(a00, a01, scores, scaling);
        StoreScaled(a10, a11, scores + stride, scaling);
        StoreScaled(a20, a21, scores + 2 * stride, scaling);
        StoreScaled(a30, a31, scores + 3 * stride, scaling);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ScoresOneRegister(float* keys, int headDim, float* panel, float* scores, int stride, TLanes scaling)
    {
        float* k0 = keys, k1 = k0 + headDim, k2 = k1 + headDim, k3 = k2 + headDim;
        TLanes a0 = default, a1 = default, a2 = default, a3 = default;
        float* q = panel;
        for (int d = 0; d < headDim; d++, q += Width)
        {
            var q0 = TLanes.Load(q);
            a0 = TLanes.MultiplyAdd(TLanes.Broadcast(k0[d]), q0, a0);
            a1 = TLanes.MultiplyAdd(TLanes.Broadcast(k1[d]), q0, a1);
            a2 = TLanes.MultiplyAdd(TLanes.Broadcast(k2[d]), q0, a2);
            a3 = TLanes.MultiplyAdd(TLanes.Broadcast(k3[d]), q0, a3);
        }
        TLanes.Store(TLanes.MultiplyAdd(a0, scaling, default), scores);
        TLanes.Store(TLanes.MultiplyAdd(a1, scaling, default), scores + stride);
        TLanes.Store(TLanes.MultiplyAdd(a2, scaling, default), scores + 2 * stride);
        TLanes.Store(TLanes.MultiplyAdd(a3, scaling, default), scores + 3 * stride);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreScaled(TLanes low, TLanes high, float* destination, TLanes scaling)
    {
        TLanes.Store(TLanes.MultiplyAdd(low, scaling, default), destination);
        TLanes.Store(TLanes.MultiplyAdd(high, scaling, default), destination + Width);
    }

    /// <summary>
    /// Turns the tile's scores into softmax weights relative to each head's running maximum, all heads at once (a score
    /// row is every head's score of one position), and rescales what each head accumulated under its previous maximum.
    /// </summary>
    private static void Fold(LatentScratch scratch, int n, int heads, float* output, int valueDim)
    {
        int padded = scratch.PaddedHeads;
        var next = new Span<float>(scratch.TileMaxima, padded);
        var maxima = new Span<float>(scratch.Maxima, padded);
        var correction = new Span<float>(scratch.Corrections, padded);
        var sums = new Span<float>(scratch.Sums, padded);
        maxima.CopyTo(next);
        for (int t = 0; t < n; t++) TensorPrimitives.Max(next, ScoreRow(scratch, t), next);
        TensorPrimitives.Subtract(maxima, next, correction);
        TensorPrimitives.Exp(correction, correction); // 0 on the first tile, whose maxima are −∞
        next.CopyTo(maxima);
        for (int t = 0; t < n; t++) TensorPrimitives.Subtract(ScoreRow(scratch, t), next, ScoreRow(scratch, t));
        var weights = new Span<float>(scratch.Scores, n * padded);
        TensorPrimitives.Exp(weights, weights);
        TensorPrimitives.Multiply(sums, correction, sums);
        for (int t = 0; t < n; t++) TensorPrimitives.Add(sums, ScoreRow(scratch, t), sums);
        for (int h = 0; h < heads; h++)
            if (correction[h] != 1f)
            {
                var row = new Span<float>(output + (long)h * valueDim, valueDim);
                TensorPrimitives.Multiply(row, correction[h], row);
            }
    }

    private static Span<float> ScoreRow(LatentScratch scratch, int t) => new(scratch.Scores + (long)t * scratch.PaddedHeads, scratch.PaddedHeads);

    /// <summary>output[h] += Σ_t weights[t, h] · v_t: micro-tiles of four heads by two value registers, then what is left one register at a time.</summary>
    private static void Accumulate(LatentScratch scratch, int n, int heads, int headDim, float* values, int valueDim, float* output)
    {
        int padded = scratch.PaddedHeads, fullHeads = heads / HeadsPerPass * HeadsPerPass;
        int d = 0;
        for (; d + 2 * Width <= valueDim; d += 2 * Width)
            for (int h = 0; h < fullHeads; h += HeadsPerPass)
                AccumulateFourHeads(scratch.Scores + h, padded, values + d, headDim, n, output + (long)h * valueDim + d, valueDim);
        for (int h = 0; h < heads; h++)
            for (int e = h < fullHeads ? d : 0; e < valueDim; e += Width)
                AccumulateOneHead(scratch.Scores + h, padded, values + e, headDim, n, output + (long)h * valueDim + e);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AccumulateFourHeads(float* weights, int stride, float* values, int rowStride, int n, float* output, int valueDim)
    {
        float* o0 = output, o1 = o0 + valueDim, o2 = o1 + valueDim, o3 = o2 + valueDim;
        TLanes a00 = TLanes.Load(o0), a01 = TLanes.Load(o0 + Width), a10 = TLanes.Load(o1), a11 = TLanes.Load(o1 + Width);
        TLanes a20 = TLanes.Load(o2), a21 = TLanes.Load(o2 + Width), a30 = TLanes.Load(o3), a31 = TLanes.Load(o3 + Width);
        float* v = values, w = weights;
        for (int t = 0; t < n; t++, v += rowStride, w += stride)
        {
            TLanes v0 = TLanes.Load(v), v1 = TLanes.Load(v + Width);
            var weight = TLanes.Broadcast(w[0]);
            a00 = TLanes.MultiplyAdd(v0, weight, a00);
            a01 = TLanes.MultiplyAdd(v1, weight, a01);
            weight = TLanes.Broadcast(w[1]);
            a10 = TLanes.MultiplyAdd(v0, weight, a10);
            a11 = TLanes.MultiplyAdd(v1, weight, a11);
            weight = TLanes.Broadcast(w[2]);
            a20 = TLanes.MultiplyAdd(v0, weight, a20);
            a21 = TLanes.MultiplyAdd(v1, weight, a21);
            weight = TLanes.Broadcast(w[3]);
            a30 = TLanes.MultiplyAdd(v0, weight, a30);
            a31 = TLanes.MultiplyAdd(v1, weight, a31);
        }
        TLanes.Store(a00, o0);
        TLanes.Store(a01, o0 + Width);
        TLanes.Store(a10, o1);
        TLanes.Store(a11, o1 + Width);
        TLanes.Store(a20, o2);
        TLanes.Store(a21, o2 + Width);
        TLanes.Store(a30, o3);
        TLanes.Store(a31, o3 + Width);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AccumulateOneHead(float* weights, int stride, float* values, int rowStride, int n, float* output)
    {
        var a = TLanes.Load(output);
        float* v = values, w = weights;
        for (int t = 0; t < n; t++, v += rowStride, w += stride) a = TLanes.MultiplyAdd(TLanes.Load(v), TLanes.Broadcast(*w), a);
        TLanes.Store(a, output);
    }
}

/// <summary>
/// One thread's working memory for a <see cref="LatentAttentionKernel{TLanes, TRow}"/> item: the packed queries, a tile of
/// rows widened to fp32, the tile's scores (turned into weights in place), and per-head running maxima and sums, the
/// heads padded to a whole register.
/// </summary>
internal readonly unsafe struct LatentScratch(float* start, int heads, int headDim, int width)
{
    /// <summary>The widest register the kernel runs on: sizes the scratch for every width.</summary>
    private const int WidestRegister = 16;
    /// <summary>Cached rows per score micro-tile: a tile's rows are padded to a multiple.</summary>
    public const int Positions = 4;
    private const int RowCapacity = CpuAttention.Tile + Positions;

    public int PaddedHeads { get; } = Padded(heads, width);

    private static int Padded(int heads, int width) => (heads + width - 1) / width * width;

    public static long Bytes(int heads, int headDim)
    {
        long padded = Padded(heads, WidestRegister);
        return (padded * headDim + (long)RowCapacity * headDim + RowCapacity * padded + 4 * padded + headDim + headDim / 2 + 1) * sizeof(float);
    }

    /// <summary>[padded heads, headDim] as panels of [headDim, panel width]</summary>
    public float* Queries => start;
    /// <summary>[Tile + Positions, headDim]</summary>
    public float* Rows => Queries + (long)PaddedHeads * headDim;
    /// <summary>[Tile + Positions, padded heads]</summary>
    public float* Scores => Rows + (long)RowCapacity * headDim;
    /// <summary>[padded heads] each</summary>
    public float* Maxima => Scores + (long)RowCapacity * PaddedHeads;
    public float* Sums => Maxima + PaddedHeads;
    public float* TileMaxima => Sums + PaddedHeads;
    public float* Corrections => TileMaxima + PaddedHeads;
    /// <summary>[headDim] one query row as fp32, then its fp16 rounding</summary>
    public float* QueryRow => Corrections + PaddedHeads;
    public void* QueryHalves => QueryRow + headDim;
}
