using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using GlmSharp.Tensors;

namespace GlmSharp.Kernels.Cpu;

/// <summary>
/// The body of one <see cref="CpuAttention"/> work item, written once for any register width and cache element
/// type: the JIT specialises it per pair, widening F16 and decoding Q8_0 value blocks in registers as rows are read.
/// Query heads go four at a time, so one loaded key or value register feeds four accumulators. Q8_0 keys meet the
/// queries quantized to the same 32-value blocks in integer dot products, as in llama.cpp (whose vec_dot_type for
/// Q8_0 is Q8_0) and as GlmSharp multiplies Q8_0 weights: both engines then round the scores alike.
/// </summary>
internal static unsafe class AttentionKernel<TLanes, TRow>
    where TLanes : struct, IFloatLanes<TLanes>
    where TRow : IVectorLoad
{
    private const int Tile = CpuAttention.Tile;
    private static int Width => TLanes.Count;
    private static bool IntegerKeys => typeof(TRow) == typeof(Q8_0RowLoad);
    private static bool HalfKeys => typeof(TRow) == typeof(F16Load) || Unbiased;

    /// <summary>
    /// F16 rows read by <see cref="F16UnbiasedLoad"/>: keys and values come out times 2⁻¹¹², so the fp16-rounded
    /// queries and the softmax weights are scaled by 2¹¹² to meet them. Powers of two make every product exactly
    /// the one the full conversion gives, at four integer operations per register instead of nine.
    /// </summary>
    private static bool Unbiased => typeof(TRow) == typeof(F16UnbiasedLoad);
    private const float UnbiasScale = 5.192296858534828e33f; // 2^112

    [MethodImpl(KernelRoot.Options)]
    public static void RunItem(void* context, int item, int thread)
    {
        var job = (CpuAttention.Job*)context;
        int splits = job->Splits, group = job->Group, headDim = job->HeadDim, valueDim = job->ValueDim, rowBytes = job->RowBytes;
        int split = item % splits, pair = item / splits, kv = pair % job->KvHeads, r = pair / job->KvHeads;
        int begin = split * job->SplitLength, end = Math.Min(begin + job->SplitLength, job->Attended(r, out int* chosen));
        long firstHead = (long)r * job->Heads + (long)kv * group;
        float* q = job->Q + firstHead * headDim;
        float* output = splits == 1 ? job->Output + firstHead * valueDim : job->Partials + item * job->PartialFloats;
        var scratch = new CpuAttention.ThreadScratch((float*)job->Scratch[thread].Pointer, group, headDim);
        float* weights = scratch.Weights;
        float* maxima = splits == 1 ? scratch.Maxima : output + (long)group * valueDim;
        float* sums = maxima + group;
        if (IntegerKeys) QuantizeQueries(q, group, headDim, scratch);
        if (HalfKeys) q = RoundQueriesToHalf(q, group * headDim, scratch);

        new Span<float>(output, group * valueDim).Clear();
        new Span<float>(maxima, group).Fill(float.NegativeInfinity);
        new Span<float>(sums, group).Clear();
        int* table = job->BlockIds + job->TableStarts[r];
        int tile = chosen != null ? Tile : job->TilePositions; // a gathered tile is one run however its slots lie in blocks
        if (begin < end && chosen == null) StreamPrefetch.Range(job->Keys + job->Offset(table, begin, kv), (long)Math.Min(tile, end - begin) * rowBytes);
        for (int t0 = begin; t0 < end; t0 += tile)
        {
            int n = Math.Min(tile, end - t0);
            byte* keys, values, nextKeys;
            if (chosen != null)
            {
                keys = nextKeys = scratch.Gathered;
                values = keys + (job->Values - job->Keys);
                Gather(job, table, chosen, t0, n, end, keys);
            }
            else
            {
                long at = job->Offset(table, t0, kv);
                keys = job->Keys + at;
                values = job->Values + at; // values may lie inside the key rows (MLA)
                nextKeys = t0 + tile < end ? job->Keys + job->Offset(table, t0 + tile, kv) : keys;
            }
            if (IntegerKeys) IntegerScores(scratch, group, headDim, keys, nextKeys, values, rowBytes, n, job->Scale);
            else Scores(q, group, headDim, keys, nextKeys, values, rowBytes, n, job->Scale, weights);
            for (int j = 0; j < group; j++)
            {
                var tileWeights = new Span<float>(weights + j * Tile, n);
                Fold(tileWeights, ref maxima[j], ref sums[j], new Span<float>(output + (long)j * valueDim, valueDim));
                if (Unbiased) TensorPrimitives.Multiply(tileWeights, UnbiasScale, tileWeights);
            }
            Accumulate(weights, group, values, rowBytes, n, valueDim, output);
        }
        if (splits == 1)
            for (int j = 0; j < group; j++)
            {
                var row = new Span<float>(output + (long)j * valueDim, valueDim);
                TensorPrimitives.Multiply(row, 1f / sums[j], row);
            }
    }

    /// <summary>weights[j, t] = scale · q_j · k_t for every head of the group and every key row of the tile.</summary>
    private static void Scores(float* q, int group, int headDim, byte* keys, byte* nextKeys, byte* values, int rowBytes, int n, float scale, float* weights)
    {
        int j = 0;
        for (; j + 4 <= group; j += 4)
        {
            float* q0 = q + (long)j * headDim, q1 = q0 + headDim, q2 = q1 + headDim, q3 = q2 + headDim;
            byte* k = keys;
            for (int t = 0; t < n; t++, k += rowBytes)
            {
                if (j == 0) PrefetchAhead(nextKeys + (long)t * rowBytes, values + (long)t * rowBytes, rowBytes);
                TLanes a0 = default, a1 = default, a2 = default, a3 = default;
                for (int d = 0; d < headDim; d += Width)
                {
                    var key = TLanes.Load<TRow>(k, d);
                    a0 = TLanes.MultiplyAdd(TLanes.Load(q0 + d), key, a0);
                    a1 = TLanes.MultiplyAdd(TLanes.Load(q1 + d), key, a1);
                    a2 = TLanes.MultiplyAdd(TLanes.Load(q2 + d), key, a2);
                    a3 = TLanes.MultiplyAdd(TLanes.Load(q3 + d), key, a3);
                }
                var sums = TLanes.Sum4(a0, a1, a2, a3) * scale;
                weights[j * Tile + t] = sums.GetElement(0);
                weights[(j + 1) * Tile + t] = sums.GetElement(1);
                weights[(j + 2) * Tile + t] = sums.GetElement(2);
                weights[(j + 3) * Tile + t] = sums.GetElement(3);
            }
        }
        for (; j < group; j++)
        {
            float* q0 = q + (long)j * headDim;
            byte* k = keys;
            for (int t = 0; t < n; t++, k += rowBytes)
            {
                if (j == 0) PrefetchAhead(nextKeys + (long)t * rowBytes, values + (long)t * rowBytes, rowBytes);
                TLanes a0 = default;
                for (int d = 0; d < headDim; d += Width)
                    a0 = TLanes.MultiplyAdd(TLanes.Load(q0 + d), TLanes.Load<TRow>(k, d), a0);
                weights[j * Tile + t] = TLanes.Sum(a0) * scale;
            }
        }
    }

    /// <summary>Rows the gather asks for ahead of the one it copies, so that the misses of several scattered rows overlap.</summary>
    private const int GatherAhead = 8;

    /// <summary>
    /// Copies the cache rows of chosen[first .. first + n) (one kv head: latent attention's) side by side into
    /// <paramref name="destination"/>, as stored, asking for the rows up to <see cref="GatherAhead"/> further on as it goes.
    /// </summary>
    private static void Gather(CpuAttention.Job* job, int* table, int* chosen, int first, int n, int end, byte* destination)
    {
        int rowBytes = job->RowBytes;
        int ahead = Math.Min(first + GatherAhead, end);
        for (int i = first; i < ahead; i++) StreamPrefetch.Range(job->Keys + job->Offset(table, chosen[i], 0), rowBytes);
        for (int t = 0; t < n; t++)
        {
            if (first + t + GatherAhead < end) StreamPrefetch.Range(job->Keys + job->Offset(table, chosen[first + t + GatherAhead], 0), rowBytes);
            Buffer.MemoryCopy(job->Keys + job->Offset(table, chosen[first + t], 0), destination + (long)t * rowBytes, rowBytes, rowBytes);
        }
    }

    /// <summary>
    /// Asks for the key row one tile ahead (in the next tile's block) and the value row the tile will weigh. A layer's cache was written a step
    /// ago and the weights streamed since have pushed it out of cache; left to the hardware prefetcher, decode
    /// attention over 576 F16 positions waited on memory for half its time (64 → 38 µs per layer with this).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PrefetchAhead(byte* nextKey, byte* value, int rowBytes)
    {
        StreamPrefetch.Range(nextKey, rowBytes);
        StreamPrefetch.Range(value, rowBytes);
    }

    /// <summary>Each query head of the group as Q8_0 blocks: codes, fp16-rounded scales and the scaled code sums the AVX dot needs.</summary>
    private static void QuantizeQueries(float* q, int group, int headDim, CpuAttention.ThreadScratch scratch)
    {
        int blocks = headDim / Int8Kernels.Block;
        for (int j = 0; j < group; j++)
        {
            float* row = q + (long)j * headDim;
            sbyte* codes = (sbyte*)scratch.QueryCodes + j * headDim;
            float* scales = scratch.QueryScales + j * blocks, sums = scratch.QuerySums + j * blocks;
            if (TLanes.Count == 1) ScalarKernels.QuantizeActivations(row, headDim, codes, scales, sums);
            else Int8Kernels.QuantizeActivations(row, headDim, codes, scales, sums, ActivationLayout.Natural);
        }
    }

    /// <summary>
    /// The group's queries rounded to fp16, as llama.cpp rounds them to meet an F16 cache (its vec_dot_type for F16
    /// is F16); each product of two fp16 values is then exact in fp32, so the scores differ only in summation order.
    /// </summary>
    private static float* RoundQueriesToHalf(float* q, int count, CpuAttention.ThreadScratch scratch)
    {
        var halves = new Span<Half>(scratch.QueryCodes, count);
        TensorPrimitives.ConvertToHalf(new ReadOnlySpan<float>(q, count), halves);
        var rounded = new Span<float>(scratch.Queries, count);
        TensorPrimitives.ConvertToSingle(halves, rounded);
        if (Unbiased) TensorPrimitives.Multiply(rounded, UnbiasScale, rounded);
        return scratch.Queries;
    }

    /// <summary>weights[j, t] = scale · Σ_blocks d_k·d_q·(k_codes · q_codes), every head against a key row while it is in L1.</summary>
    private static void IntegerScores(CpuAttention.ThreadScratch scratch, int group, int headDim, byte* keys, byte* nextKeys, byte* values, int rowBytes, int n, float scale)
    {
        int blocks = headDim / Int8Kernels.Block;
        byte* k = keys;
        for (int t = 0; t < n; t++, k += rowBytes)
        {
            PrefetchAhead(nextKeys + (long)t * rowBytes, values + (long)t * rowBytes, rowBytes);
            for (int j = 0; j < group; j++)
            {
                sbyte* codes = (sbyte*)scratch.QueryCodes + j * headDim;
                float* scales = scratch.QueryScales + j * blocks;
                float dot = TLanes.Count == 1
                    ? ScalarKernels.DotQuantizedRow(GgmlType.Q8_0, k, codes, scales, blocks)
                    : AvxVnni.IsSupported
                        ? Int8Kernels.DotQ8_0<VnniDot>(k, codes, scales, scratch.QuerySums + j * blocks, blocks)
                        : Int8Kernels.DotQ8_0<SignedDot>(k, codes, scales, scratch.QuerySums + j * blocks, blocks);
                scratch.Weights[j * Tile + t] = dot * scale;
            }
        }
    }

    /// <summary>
    /// Turns one head's tile of scores into softmax weights relative to the running maximum, rescaling what was
    /// accumulated under the previous maximum so all terms share one reference.
    /// </summary>
    private static void Fold(Span<float> scores, ref float maximum, ref float sum, Span<float> output)
    {
        float next = MathF.Max(maximum, TensorPrimitives.Max(scores));
        TensorPrimitives.Subtract(scores, next, scores);
        TensorPrimitives.Exp(scores, scores);
        float correction = MathF.Exp(maximum - next); // 0 on the first tile, whose maximum is −∞
        sum = sum * correction + TensorPrimitives.Sum(scores);
        if (correction != 1f) TensorPrimitives.Multiply(output, correction, output);
        maximum = next;
    }

    /// <summary>output[j] += Σ_t weights[j, t] · v_t, one register of dimensions at a time over the tile's rows.</summary>
    private static void Accumulate(float* weights, int group, byte* values, int rowBytes, int n, int valueDim, float* output)
    {
        for (int d = 0; d < valueDim; d += Width)
        {
            int j = 0;
            for (; j + 4 <= group; j += 4)
            {
                float* w0 = weights + j * Tile, w1 = w0 + Tile, w2 = w1 + Tile, w3 = w2 + Tile;
                float* o0 = output + (long)j * valueDim + d, o1 = o0 + valueDim, o2 = o1 + valueDim, o3 = o2 + valueDim;
                TLanes a0 = TLanes.Load(o0), a1 = TLanes.Load(o1), a2 = TLanes.Load(o2), a3 = TLanes.Load(o3);
                byte* v = values;
                for (int t = 0; t < n; t++, v += rowBytes)
                {
                    var value = TLanes.Load<TRow>(v, d);
                    a0 = TLanes.MultiplyAdd(value, TLanes.Broadcast(w0[t]), a0);
                    a1 = TLanes.MultiplyAdd(value, TLanes.Broadcast(w1[t]), a1);
                    a2 = TLanes.MultiplyAdd(value, TLanes.Broadcast(w2[t]), a2);
                    a3 = TLanes.MultiplyAdd(value, TLanes.Broadcast(w3[t]), a3);
                }
                TLanes.Store(a0, o0);
                TLanes.Store(a1, o1);
                TLanes.Store(a2, o2);
                TLanes.Store(a3, o3);
            }
            for (; j < group; j++)
            {
                float* w0 = weights + j * Tile, o0 = output + (long)j * valueDim + d;
                TLanes a0 = TLanes.Load(o0);
                byte* v = values;
                for (int t = 0; t < n; t++, v += rowBytes)
                    a0 = TLanes.MultiplyAdd(TLanes.Load<TRow>(v, d), TLanes.Broadcast(w0[t]), a0);
                TLanes.Store(a0, o0);
            }
        }
    }
}
