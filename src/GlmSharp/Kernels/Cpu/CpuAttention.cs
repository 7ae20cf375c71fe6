using System.Runtime.CompilerServices;
using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

namespace GlmSharp.Kernels.Cpu;

/// <summary>
/// Causal grouped-query attention over one layer's cache, one (token, head) pair per work item: scores of the
/// query against every visible key, softmax, then the weighted sum of values. Each kv head's keys and values are
/// contiguous in the cache, so an item streams two dense blocks. Scores live in per-thread scratch.
/// </summary>
internal static unsafe class CpuAttention
{
    private struct Job
    {
        public float* Q, Keys, Values, Output;
        public int Heads, KvHeads, HeadDim, FirstPosition;
        public long HeadStride;
        public float Scale;
        public NativeBuffer* Scratch;
        public bool Wide;
    }

    public static void Run(WorkerPool pool, CpuIsa isa, float* q, int rows, int firstPosition, float* keys, float* values, int kvHeads, int headDim, long headStride,
        float* output, int heads, float scale, NativeBuffer* scratch)
    {
        for (int i = 0; i < pool.Threads; i++) scratch[i].Ensure((long)(firstPosition + rows) * sizeof(float));
        var job = new Job
        {
            Q = q, Keys = keys, Values = values, Output = output, Heads = heads, KvHeads = kvHeads, HeadDim = headDim,
            FirstPosition = firstPosition, HeadStride = headStride, Scale = scale, Scratch = scratch,
            Wide = isa == CpuIsa.Avx512 && headDim % 16 == 0,
        };
        pool.For(rows * heads, &RunItem, &job);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunItem(void* context, int item, int thread)
    {
        var job = (Job*)context;
        int headDim = job->HeadDim;
        int r = item / job->Heads, h = item % job->Heads;
        long kvOffset = h / (job->Heads / job->KvHeads) * job->HeadStride;
        int length = job->FirstPosition + r + 1;
        var query = new ReadOnlySpan<float>(job->Q + (long)item * headDim, headDim);
        var output = new Span<float>(job->Output + (long)item * headDim, headDim);
        float* scores = (float*)job->Scratch[thread].Pointer;
        var scoreSpan = new Span<float>(scores, length);
        if (job->Wide)
        {
            Scores512(job->Q + (long)item * headDim, job->Keys + kvOffset, headDim, length, job->Scale, scores);
            TensorPrimitives.SoftMax(scoreSpan, scoreSpan);
            WeightedSum512(scores, job->Values + kvOffset, headDim, length, job->Output + (long)item * headDim);
            return;
        }
        for (int p = 0; p < length; p++)
            scores[p] = TensorPrimitives.Dot(query, new ReadOnlySpan<float>(job->Keys + (long)p * headDim + kvOffset, headDim)) * job->Scale;
        TensorPrimitives.SoftMax(scoreSpan, scoreSpan);
        output.Clear();
        for (int p = 0; p < length; p++)
            TensorPrimitives.MultiplyAdd(new ReadOnlySpan<float>(job->Values + (long)p * headDim + kvOffset, headDim), scores[p], output, output);
    }

    /// <summary>scores[p] = scale · q·k_p, the dot inlined: a library call per cached position costs more than its 128 multiplies.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Scores512(float* q, float* keys, int headDim, int length, float scale, float* scores)
    {
        for (int p = 0; p < length; p++)
        {
            float* k = keys + (long)p * headDim;
            Vector512<float> a0 = default, a1 = default;
            int d = 0;
            for (; d + 32 <= headDim; d += 32)
            {
                a0 = Vector512.FusedMultiplyAdd(Vector512.Load(q + d), Vector512.Load(k + d), a0);
                a1 = Vector512.FusedMultiplyAdd(Vector512.Load(q + d + 16), Vector512.Load(k + d + 16), a1);
            }
            if (d < headDim) a0 = Vector512.FusedMultiplyAdd(Vector512.Load(q + d), Vector512.Load(k + d), a0);
            scores[p] = Vector512.Sum(a0 + a1) * scale;
        }
    }

    /// <summary>output = Σ_p weights[p]·v_p, 64 dims at a time so each pass reads whole cache lines of every row.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void WeightedSum512(float* weights, float* values, int headDim, int length, float* output)
    {
        int d = 0;
        for (; d + 64 <= headDim; d += 64)
        {
            Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
            float* v = values + d;
            for (int p = 0; p < length; p++, v += headDim)
            {
                var weight = Vector512.Create(weights[p]);
                a0 = Vector512.FusedMultiplyAdd(Vector512.Load(v), weight, a0);
                a1 = Vector512.FusedMultiplyAdd(Vector512.Load(v + 16), weight, a1);
                a2 = Vector512.FusedMultiplyAdd(Vector512.Load(v + 32), weight, a2);
                a3 = Vector512.FusedMultiplyAdd(Vector512.Load(v + 48), weight, a3);
            }
            a0.Store(output + d);
            a1.Store(output + d + 16);
            a2.Store(output + d + 32);
            a3.Store(output + d + 48);
        }
        for (; d < headDim; d += 16)
        {
            Vector512<float> a0 = default;
            for (int p = 0; p < length; p++)
                a0 = Vector512.FusedMultiplyAdd(Vector512.Load(values + (long)p * headDim + d), Vector512.Create(weights[p]), a0);
            a0.Store(output + d);
        }
    }
}
