using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace GlmSharp.Kernels.Cpu;

/// <summary>
/// The body of one <see cref="CpuAttention"/> work item for MLA's absorbed attention (one kv head, every query head reading
/// the same cached latent row), as two matrix products per tile in the way llama.cpp computes it:
/// scores [tile × heads] = L [tile × width] · Qᵀ [width × heads], then an online softmax per head, then
/// out [heads × value] += Pᵀ [heads × tile] · V [tile × value], V being the latent part of the same rows.
/// A tile's rows are widened to fp32 once, whatever the head count, where the grouped-query kernel widened each row
/// again for every four heads and loaded four queries per row register; both products here run register-blocked
/// micro-tiles (four rows × two heads, and four heads × two value registers) whose every load feeds several accumulators,
/// and the softmax runs across all heads at once over the [rows, heads] scores.
/// </summary>
internal static unsafe class LatentAttentionKernel<TLanes, TRow>
    where TLanes : struct, IFloatLanes<TLanes>
    where TRow : IFloatLoad
{
    private const int Tile = CpuAttention.Tile;
    /// <summary>Cached rows per score micro-tile: four row registers against two heads' query registers, 8 accumulators.</summary>
    private const int Positions = LatentScratch.Positions;
    /// <summary>Heads per value micro-tile: four broadcast weights against two registers of value dimensions.</summary>
    private const int HeadsPerPass = 4;
    private static int Width => TLanes.Count;
    private static bool HalfKeys => typeof(TRow) == typeof(F16Load);

    [MethodImpl(KernelRoot.Options)]
    public static void RunItem(void* context, int item, int thread)
    {
        var job = (CpuAttention.Job*)context;
        int splits = job->Splits, heads = job->Group, headDim = job->HeadDim, valueDim = job->ValueDim;
        int split = item % splits, r = item / splits; // one kv head: an item is a row and a stretch of its positions
        int begin = split * job->SplitLength, end = Math.Min(begin + job->SplitLength, job->Attended(r, out int* chosen));
        float* output = splits == 1 ? job->Output + (long)r * heads * valueDim : job->Partials + item * job->PartialFloats;
        var scratch = new LatentScratch((float*)job->Scratch[thread].Pointer, heads, headDim);
        float* q = job->Q + (long)r * heads * headDim;
        if (HalfKeys) q = RoundQueriesToHalf(q, heads * headDim, scratch);
        new Span<float>(output, heads * valueDim).Clear();
        new Span<float>(scratch.Maxima, heads).Fill(float.NegativeInfinity);
        new Span<float>(scratch.Sums, heads).Clear();

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
            Scores(scratch, q, heads, headDim, rows, job->Scale);
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
    /// The row's queries rounded to fp16, as llama.cpp rounds them to meet an F16 cache (its vec_dot_type for F16 is F16);
    /// each product with a widened fp16 row is then exact in fp32, so the scores differ from its only in summation order.
    /// </summary>
    private static float* RoundQueriesToHalf(float* q, int count, LatentScratch scratch)
    {
        var halves = new Span<Half>(scratch.QueryHalves, count);
        TensorPrimitives.ConvertToHalf(new ReadOnlySpan<float>(q, count), halves);
        TensorPrimitives.ConvertToSingle(halves, new Span<float>(scratch.Queries, count));
        return scratch.Queries;
    }

    /// <summary>Widens the n contiguous cached rows of a dense tile to fp32, asking for the next tile's rows as it goes.</summary>
    [MethodImpl(KernelRoot.Options)]
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
    [MethodImpl(KernelRoot.Options)]
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

    /// <summary>
    /// scores[t, h] = scale · l_t · q_h for the tile's rows (a multiple of <see cref="Positions"/>) and every head: micro-tiles
    /// of four rows by two heads, each accumulator a register of dimensions summed at the end, in the grouped-query kernel's
    /// order (an order summing each dimension in turn, as an outer product of packed queries would, moved the Q8_0-weight
    /// Flash oracle test's logits 2e-2 from llama.cpp's through flipped activation codes).
    /// </summary>
    [MethodImpl(KernelRoot.Options)]
    private static void Scores(LatentScratch scratch, float* queries, int heads, int headDim, int rows, float scale)
    {
        for (int t = 0; t < rows; t += Positions)
        {
            float* keys = scratch.Rows + (long)t * headDim, scores = scratch.Scores + (long)t * heads;
            int h = 0;
            for (; h + 2 <= heads; h += 2) ScoresTwoHeads(keys, headDim, queries + (long)h * headDim, scores + h, heads, scale);
            if (h < heads) ScoresOneHead(keys, headDim, queries + (long)h * headDim, scores + h, heads, scale);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ScoresTwoHeads(float* keys, int headDim, float* queries, float* scores, int stride, float scale)
    {
        float* k0 = keys, k1 = k0 + headDim, k2 = k1 + headDim, k3 = k2 + headDim, q0 = queries, q1 = q0 + headDim;
        TLanes a00 = default, a01 = default, a10 = default, a11 = default, a20 = default, a21 = default, a30 = default, a31 = default;
        for (int d = 0; d < headDim; d += Width)
        {
            TLanes first = TLanes.Load(q0 + d), second = TLanes.Load(q1 + d);
            var key = TLanes.Load(k0 + d);
            a00 = TLanes.MultiplyAdd(first, key, a00);
            a01 = TLanes.MultiplyAdd(second, key, a01);
            key = TLanes.Load(k1 + d);
            a10 = TLanes.MultiplyAdd(first, key, a10);
            a11 = TLanes.MultiplyAdd(second, key, a11);
            key = TLanes.Load(k2 + d);
            a20 = TLanes.MultiplyAdd(first, key, a20);
            a21 = TLanes.MultiplyAdd(second, key, a21);
            key = TLanes.Load(k3 + d);
            a30 = TLanes.MultiplyAdd(first, key, a30);
            a31 = TLanes.MultiplyAdd(second, key, a31);
        }
        StoreColumn(TLanes.Sum4(a00, a10, a20, a30) * scale, scores, stride);
        StoreColumn(TLanes.Sum4(a01, a11, a21, a31) * scale, scores + 1, stride);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ScoresOneHead(float* keys, int headDim, float* queries, float* scores, int stride, float scale)
    {
        float* k0 = keys, k1 = k0 + headDim, k2 = k1 + headDim, k3 = k2 + headDim;
        TLanes a0 = default, a1 = default, a2 = default, a3 = default;
        for (int d = 0; d < headDim; d += Width)
        {
            var query = TLanes.Load(queries + d);
            a0 = TLanes.MultiplyAdd(query, TLanes.Load(k0 + d), a0);
            a1 = TLanes.MultiplyAdd(query, TLanes.Load(k1 + d), a1);
            a2 = TLanes.MultiplyAdd(query, TLanes.Load(k2 + d), a2);
            a3 = TLanes.MultiplyAdd(query, TLanes.Load(k3 + d), a3);
        }
        StoreColumn(TLanes.Sum4(a0, a1, a2, a3) * scale, scores, stride);
    }

    /// <summary>Four rows' scores of one head, into its column of the [rows, heads] scores.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreColumn(Vector128<float> sums, float* column, int stride)
    {
        column[0] = sums.GetElement(0);
        column[stride] = sums.GetElement(1);
        column[2 * stride] = sums.GetElement(2);
        column[3 * stride] = sums.GetElement(3);
    }

    /// <summary>
    /// Turns the tile's scores into softmax weights relative to each head's running maximum, all heads at once (a score
    /// row is every head's score of one position), and rescales what each head accumulated under its previous maximum.
    /// </summary>
    [MethodImpl(KernelRoot.Options)]
    private static void Fold(LatentScratch scratch, int n, int heads, float* output, int valueDim)
    {
        var next = new Span<float>(scratch.TileMaxima, heads);
        var maxima = new Span<float>(scratch.Maxima, heads);
        var correction = new Span<float>(scratch.Corrections, heads);
        var sums = new Span<float>(scratch.Sums, heads);
        maxima.CopyTo(next);
        for (int t = 0; t < n; t++) TensorPrimitives.Max(next, ScoreRow(scratch, t, heads), next);
        TensorPrimitives.Subtract(maxima, next, correction);
        TensorPrimitives.Exp(correction, correction); // 0 on the first tile, whose maxima are −∞
        next.CopyTo(maxima);
        for (int t = 0; t < n; t++) TensorPrimitives.Subtract(ScoreRow(scratch, t, heads), next, ScoreRow(scratch, t, heads));
        var weights = new Span<float>(scratch.Scores, n * heads);
        TensorPrimitives.Exp(weights, weights);
        TensorPrimitives.Multiply(sums, correction, sums);
        for (int t = 0; t < n; t++) TensorPrimitives.Add(sums, ScoreRow(scratch, t, heads), sums);
        for (int h = 0; h < heads; h++)
            if (correction[h] != 1f)
            {
                var row = new Span<float>(output + (long)h * valueDim, valueDim);
                TensorPrimitives.Multiply(row, correction[h], row);
            }
    }

    private static Span<float> ScoreRow(LatentScratch scratch, int t, int heads) => new(scratch.Scores + (long)t * heads, heads);

    /// <summary>output[h] += Σ_t weights[t, h] · v_t: micro-tiles of four heads by two value registers, then what is left one register at a time.</summary>
    [MethodImpl(KernelRoot.Options)]
    private static void Accumulate(LatentScratch scratch, int n, int heads, int headDim, float* values, int valueDim, float* output)
    {
        int fullHeads = heads / HeadsPerPass * HeadsPerPass;
        int d = 0;
        for (; d + 2 * Width <= valueDim; d += 2 * Width)
            for (int h = 0; h < fullHeads; h += HeadsPerPass)
                AccumulateFourHeads(scratch.Scores + h, heads, values + d, headDim, n, output + (long)h * valueDim + d, valueDim);
        for (int h = 0; h < heads; h++)
            for (int e = h < fullHeads ? d : 0; e < valueDim; e += Width)
                AccumulateOneHead(scratch.Scores + h, heads, values + e, headDim, n, output + (long)h * valueDim + e);
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
/// One thread's working memory for a <see cref="LatentAttentionKernel{TLanes, TRow}"/> item: the queries as rounded for the
/// cache, a tile of rows widened to fp32, the tile's scores (turned into weights in place), and per-head running maxima and sums.
/// </summary>
internal readonly unsafe struct LatentScratch(float* start, int heads, int headDim)
{
    /// <summary>Cached rows per score micro-tile: a tile's rows are padded to a multiple.</summary>
    public const int Positions = 4;
    private const int RowCapacity = CpuAttention.Tile + Positions;

    public static long Bytes(int heads, int headDim) =>
        ((long)heads * headDim + (long)RowCapacity * headDim + (long)RowCapacity * heads + 4L * heads) * sizeof(float) + (long)heads * headDim * sizeof(ushort);

    /// <summary>[heads, headDim]</summary>
    public float* Queries => start;
    /// <summary>[Tile + Positions, headDim]</summary>
    public float* Rows => Queries + (long)heads * headDim;
    /// <summary>[Tile + Positions, heads]</summary>
    public float* Scores => Rows + (long)RowCapacity * headDim;
    /// <summary>[heads] each</summary>
    public float* Maxima => Scores + (long)RowCapacity * heads;
    public float* Sums => Maxima + heads;
    public float* TileMaxima => Sums + heads;
    public float* Corrections => TileMaxima + heads;
    /// <summary>[heads, headDim] the queries' fp16 bits on their way to <see cref="Queries"/></summary>
    public void* QueryHalves => Corrections + heads;
}
