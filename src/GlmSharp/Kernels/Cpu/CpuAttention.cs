using System.Runtime.CompilerServices;
using System.Numerics.Tensors;

namespace GlmSharp.Kernels.Cpu;

/// <summary>
/// Causal grouped-query attention over one layer's cache, one (token, head) pair per work item: scores of the
/// query against every visible key, softmax, then the weighted sum of values. Scores live in per-thread scratch.
/// </summary>
internal static unsafe class CpuAttention
{
    private struct Job
    {
        public float* Q, Keys, Values, Output;
        public int Heads, KvHeads, HeadDim, FirstPosition;
        public float Scale;
        public NativeBuffer* Scratch;
    }

    public static void Run(WorkerPool pool, float* q, int rows, int firstPosition, float* keys, float* values, int kvHeads, int headDim,
        float* output, int heads, float scale, NativeBuffer* scratch)
    {
        for (int i = 0; i < pool.Threads; i++) scratch[i].Ensure((long)(firstPosition + rows) * sizeof(float));
        var job = new Job
        {
            Q = q, Keys = keys, Values = values, Output = output, Heads = heads, KvHeads = kvHeads, HeadDim = headDim,
            FirstPosition = firstPosition, Scale = scale, Scratch = scratch,
        };
        pool.For(rows * heads, &RunItem, &job);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunItem(void* context, int item, int thread)
    {
        var job = (Job*)context;
        int headDim = job->HeadDim, rowWidth = job->KvHeads * headDim;
        int r = item / job->Heads, h = item % job->Heads;
        int kvOffset = h / (job->Heads / job->KvHeads) * headDim;
        int length = job->FirstPosition + r + 1;
        var query = new ReadOnlySpan<float>(job->Q + (long)item * headDim, headDim);
        var output = new Span<float>(job->Output + (long)item * headDim, headDim);
        var scores = new Span<float>(job->Scratch[thread].Pointer, length);
        for (int p = 0; p < length; p++)
            scores[p] = TensorPrimitives.Dot(query, new ReadOnlySpan<float>(job->Keys + (long)p * rowWidth + kvOffset, headDim)) * job->Scale;
        TensorPrimitives.SoftMax(scores, scores);
        output.Clear();
        for (int p = 0; p < length; p++)
            TensorPrimitives.MultiplyAdd(new ReadOnlySpan<float>(job->Values + (long)p * rowWidth + kvOffset, headDim), scores[p], output, output);
    }
}
