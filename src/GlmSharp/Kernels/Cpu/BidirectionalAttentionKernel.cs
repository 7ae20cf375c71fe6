using System.Numerics.Tensors;
using System.Runtime.CompilerServices;

namespace GlmSharp.Kernels.Cpu;

/// <summary>
/// One <see cref="CpuBidirectionalAttention"/> work item: a block of queries of one head against all of its keys, a key tile
/// at a time, as in FlashAttention: scores [block × tile] = Q·Kᵀ, an online softmax (each query's running maximum and sum,
/// its output rescaled when the maximum grows), then out [block × headDim] += P·V. Both products are outer products on
/// register micro-tiles of six queries by two registers, so no accumulator needs a horizontal sum: the scores' lanes are
/// keys (the packed keys hold a tile's keys side by side for each dimension), the outputs' lanes are dimensions of the
/// values; per step two loads and six broadcasts feed twelve multiply-adds.
/// </summary>
internal static unsafe class BidirectionalAttentionKernel<TLanes> where TLanes : struct, IFloatLanes<TLanes>
{
    private const int KeyTile = CpuBidirectionalAttention.KeyTile;
    /// <summary>Queries per micro-tile: six rows by two registers is twelve accumulators, within AVX2's sixteen registers.</summary>
    private const int MicroRows = 6;
    private static int Width => TLanes.Count;

    [MethodImpl(KernelRoot.Options)]
    public static void RunItem(void* context, int item, int thread)
    {
        var job = (CpuBidirectionalAttention.Job*)context;
        int headDim = job->HeadDim, tokens = job->Tokens;
        int first = item * CpuBidirectionalAttention.QueryBlock, count = Math.Min(CpuBidirectionalAttention.QueryBlock, tokens - first);
        int rows = (count + MicroRows - 1) / MicroRows * MicroRows; // a partial micro-tile's missing queries are zeros, their outputs unread
        var scratch = new AttentionScratch((float*)job->Scratch[thread].Pointer, headDim);
        // The scale goes on the queries: one multiply per query value instead of one per score.
        for (int r = 0; r < count; r++)
            TensorPrimitives.Multiply(new ReadOnlySpan<float>(job->Q + (long)(first + r) * job->Width + job->Offset, headDim), job->Scale,
                new Span<float>(scratch.Queries + (long)r * headDim, headDim));
        new Span<float>(scratch.Queries + (long)count * headDim, (rows - count) * headDim).Clear();
        new Span<float>(scratch.Outputs, rows * headDim).Clear();
        new Span<float>(scratch.Maxima, rows).Fill(float.NegativeInfinity);
        new Span<float>(scratch.Sums, rows).Clear();

        for (int t0 = 0, tile = 0; t0 < tokens; t0 += KeyTile, tile++)
        {
            int keys = Math.Min(KeyTile, tokens - t0);
            Scores(scratch, job->PackedKeys + (long)tile * KeyTile * headDim, headDim, rows, keys);
            Fold(scratch, headDim, rows, keys);
            Accumulate(scratch, job->PackedValues + (long)tile * KeyTile * headDim, headDim, rows, keys);
        }

        for (int r = 0; r < count; r++)
            TensorPrimitives.Multiply(new ReadOnlySpan<float>(scratch.Outputs + (long)r * headDim, headDim), 1f / scratch.Sums[r],
                new Span<float>(job->Output + (long)(first + r) * job->Width + job->Offset, headDim));
    }

    /// <summary>scores[r, j] = q_r · k_j for the block's queries and the tile's keys, rounded up to whole micro-tiles (padding keys are zeros).</summary>
    [MethodImpl(KernelRoot.Options)]
    private static void Scores(AttentionScratch scratch, float* packedKeys, int headDim, int rows, int keys)
    {
        for (int j = 0; j < keys; j += 2 * Width)
            for (int r = 0; r < rows; r += MicroRows)
                ScoresSixRows(scratch.Queries + (long)r * headDim, headDim, packedKeys + (long)j * headDim, scratch.Scores + (long)r * KeyTile + j);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ScoresSixRows(float* queries, int headDim, float* keys, float* scores)
    {
        float* q0 = queries, q1 = q0 + headDim, q2 = q1 + headDim, q3 = q2 + headDim, q4 = q3 + headDim, q5 = q4 + headDim;
        TLanes a00 = default, a01 = default, a10 = default, a11 = default, a20 = default, a21 = default;
        TLanes a30 = default, a31 = default, a40 = default, a41 = default, a50 = default, a51 = default;
        float* k = keys;
        for (int d = 0; d < headDim; d++, k += 2 * Width)
        {
            TLanes k0 = TLanes.Load(k), k1 = TLanes.Load(k + Width);
            var q = TLanes.Broadcast(q0[d]);
            a00 = TLanes.MultiplyAdd(k0, q, a00);
            a01 = TLanes.MultiplyAdd(k1, q, a01);
            q = TLanes.Broadcast(q1[d]);
            a10 = TLanes.MultiplyAdd(k0, q, a10);
            a11 = TLanes.MultiplyAdd(k1, q, a11);
            q = TLanes.Broadcast(q2[d]);
            a20 = TLanes.MultiplyAdd(k0, q, a20);
            a21 = TLanes.MultiplyAdd(k1, q, a21);
            q = TLanes.Broadcast(q3[d]);
            a30 = TLanes.MultiplyAdd(k0, q, a30);
            a31 = TLanes.MultiplyAdd(k1, q, a31);
            q = TLanes.Broadcast(q4[d]);
            a40 = TLanes.MultiplyAdd(k0, q, a40);
            a41 = TLanes.MultiplyAdd(k1, q, a41);
            q = TLanes.Broadcast(q5[d]);
            a50 = TLanes.MultiplyAdd(k0, q, a50);
            a51 = TLanes.MultiplyAdd(k1, q, a51);
        }
        StorePair(a00, a01, scores);
        StorePair(a10, a11, scores + KeyTile);
        StorePair(a20, a21, scores + 2 * KeyTile);
        StorePair(a30, a31, scores + 3 * KeyTile);
        StorePair(a40, a41, scores + 4 * KeyTile);
        StorePair(a50, a51, scores + 5 * KeyTile);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StorePair(TLanes a, TLanes b, float* destination)
    {
        TLanes.Store(a, destination);
        TLanes.Store(b, destination + Width);
    }

    /// <summary>
    /// Turns each query's scores of the tile's keys into weights relative to its running maximum, adds them to its running
    /// sum, and rescales what it accumulated under its previous maximum (by 0 on the first tile, whose maximum was −∞).
    /// </summary>
    [MethodImpl(KernelRoot.Options)]
    private static void Fold(AttentionScratch scratch, int headDim, int rows, int keys)
    {
        for (int r = 0; r < rows; r++)
        {
            var weights = new Span<float>(scratch.Scores + (long)r * KeyTile, keys);
            float previous = scratch.Maxima[r], maximum = MathF.Max(previous, TensorPrimitives.Max(weights));
            float correction = MathF.Exp(previous - maximum);
            TensorPrimitives.Subtract(weights, maximum, weights);
            TensorPrimitives.Exp(weights, weights);
            scratch.Maxima[r] = maximum;
            scratch.Sums[r] = scratch.Sums[r] * correction + TensorPrimitives.Sum(weights);
            if (correction != 1f)
            {
                var output = new Span<float>(scratch.Outputs + (long)r * headDim, headDim);
                TensorPrimitives.Multiply(output, correction, output);
            }
        }
    }

    /// <summary>outputs[r] += Σ_j weights[r, j] · v_j: micro-tiles of six queries by two registers of dimensions, then one register if one is left.</summary>
    [MethodImpl(KernelRoot.Options)]
    private static void Accumulate(AttentionScratch scratch, float* values, int headDim, int rows, int keys)
    {
        int d = 0;
        for (; d + 2 * Width <= headDim; d += 2 * Width)
            for (int r = 0; r < rows; r += MicroRows)
                AccumulateSixRows(scratch.Scores + (long)r * KeyTile, values + (long)d * KeyTile, keys, scratch.Outputs + (long)r * headDim + d, headDim);
        if (d < headDim)
            for (int r = 0; r < rows; r += MicroRows)
                AccumulateSixRowsOneRegister(scratch.Scores + (long)r * KeyTile, values + (long)d * KeyTile, keys, scratch.Outputs + (long)r * headDim + d, headDim);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AccumulateSixRows(float* weights, float* values, int keys, float* outputs, int headDim)
    {
        float* o0 = outputs, o1 = o0 + headDim, o2 = o1 + headDim, o3 = o2 + headDim, o4 = o3 + headDim, o5 = o4 + headDim;
        TLanes a00 = TLanes.Load(o0), a01 = TLanes.Load(o0 + Width), a10 = TLanes.Load(o1), a11 = TLanes.Load(o1 + Width);
        TLanes a20 = TLanes.Load(o2), a21 = TLanes.Load(o2 + Width), a30 = TLanes.Load(o3), a31 = TLanes.Load(o3 + Width);
        TLanes a40 = TLanes.Load(o4), a41 = TLanes.Load(o4 + Width), a50 = TLanes.Load(o5), a51 = TLanes.Load(o5 + Width);
        float* v = values, w = weights;
        for (int j = 0; j < keys; j++, v += 2 * Width, w++)
        {
            TLanes v0 = TLanes.Load(v), v1 = TLanes.Load(v + Width);
            var p = TLanes.Broadcast(w[0]);
            a00 = TLanes.MultiplyAdd(v0, p, a00);
            a01 = TLanes.MultiplyAdd(v1, p, a01);
            p = TLanes.Broadcast(w[KeyTile]);
            a10 = TLanes.MultiplyAdd(v0, p, a10);
            a11 = TLanes.MultiplyAdd(v1, p, a11);
            p = TLanes.Broadcast(w[2 * KeyTile]);
            a20 = TLanes.MultiplyAdd(v0, p, a20);
            a21 = TLanes.MultiplyAdd(v1, p, a21);
            p = TLanes.Broadcast(w[3 * KeyTile]);
            a30 = TLanes.MultiplyAdd(v0, p, a30);
            a31 = TLanes.MultiplyAdd(v1, p, a31);
            p = TLanes.Broadcast(w[4 * KeyTile]);
            a40 = TLanes.MultiplyAdd(v0, p, a40);
            a41 = TLanes.MultiplyAdd(v1, p, a41);
            p = TLanes.Broadcast(w[5 * KeyTile]);
            a50 = TLanes.MultiplyAdd(v0, p, a50);
            a51 = TLanes.MultiplyAdd(v1, p, a51);
        }
        StorePair(a00, a01, o0);
        StorePair(a10, a11, o1);
        StorePair(a20, a21, o2);
        StorePair(a30, a31, o3);
        StorePair(a40, a41, o4);
        StorePair(a50, a51, o5);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AccumulateSixRowsOneRegister(float* weights, float* values, int keys, float* outputs, int headDim)
    {
        float* o0 = outputs, o1 = o0 + headDim, o2 = o1 + headDim, o3 = o2 + headDim, o4 = o3 + headDim, o5 = o4 + headDim;
        TLanes a0 = TLanes.Load(o0), a1 = TLanes.Load(o1), a2 = TLanes.Load(o2), a3 = TLanes.Load(o3), a4 = TLanes.Load(o4), a5 = TLanes.Load(o5);
        float* v = values, w = weights;
        for (int j = 0; j < keys; j++, v += Width, w++)
        {
            var value = TLanes.Load(v);
            a0 = TLanes.MultiplyAdd(value, TLanes.Broadcast(w[0]), a0);
            a1 = TLanes.MultiplyAdd(value, TLanes.Broadcast(w[KeyTile]), a1);
            a2 = TLanes.MultiplyAdd(value, TLanes.Broadcast(w[2 * KeyTile]), a2);
            a3 = TLanes.MultiplyAdd(value, TLanes.Broadcast(w[3 * KeyTile]), a3);
            a4 = TLanes.MultiplyAdd(value, TLanes.Broadcast(w[4 * KeyTile]), a4);
            a5 = TLanes.MultiplyAdd(value, TLanes.Broadcast(w[5 * KeyTile]), a5);
        }
        TLanes.Store(a0, o0);
        TLanes.Store(a1, o1);
        TLanes.Store(a2, o2);
        TLanes.Store(a3, o3);
        TLanes.Store(a4, o4);
        TLanes.Store(a5, o5);
    }
}
