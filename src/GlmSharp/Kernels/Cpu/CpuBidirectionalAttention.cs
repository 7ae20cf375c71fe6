using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using GlmSharp.Tensors;

namespace GlmSharp.Kernels.Cpu;

/// <summary>
/// The vision tower's attention — every patch against every patch of one image, no mask — as two matrix products per
/// head and chunk of queries, both through the float prefill GEMM (<see cref="CpuMatMul"/>, whichever kernel the ISA
/// has): the chunk's scores against all keys (q·kᵀ, the head's keys as an [n, head_dim] matrix), a softmax of each score
/// row in fp32, then scores·v (the head's values transposed, [head_dim, n]). Memory grows with the patches, never with
/// their square: a chunk's scores are 256 × n floats, 43 MB for a 4K image's 42,000 patches, where one head's n × n
/// scores would be 7 GB. (One (token, head) row of dot products at a time, the reference
/// <see cref="CpuVisionOps.BidirectionalAttention"/>, ran on one thread at a fraction of the GEMM's speed.)
/// </summary>
internal static unsafe class CpuBidirectionalAttention
{
    /// <summary>Queries per pair of products: enough rows for the GEMM's token blocking, few enough that the scores stay small.</summary>
    private const int QueryChunk = 256;

    private struct Rows
    {
        public float* Scores;
        public int Width;
    }

    public static void Run(WorkerPool pool, CpuIsa isa, Int8Path int8, CpuWorkspace workspace, float* q, float* k, float* v, float* output,
        int tokens, int heads, int headDim, float scale)
    {
        int width = heads * headDim, chunk = Math.Min(QueryChunk, tokens);
        long headFloats = (long)tokens * headDim;
        float* keys = Allocate(headFloats), values = Allocate(headFloats), queries = Allocate((long)chunk * headDim);
        float* scores = Allocate((long)chunk * tokens), result = Allocate((long)chunk * headDim);
        try
        {
            var keyMatrix = new TensorView("vision attention keys", GgmlType.F32, [tokens, headDim], (byte*)keys, headFloats * sizeof(float), "vision tower");
            var valueMatrix = new TensorView("vision attention values", GgmlType.F32, [headDim, tokens], (byte*)values, headFloats * sizeof(float), "vision tower");
            for (int head = 0; head < heads; head++)
            {
                int offset = head * headDim;
                for (int s = 0; s < tokens; s++)
                {
                    new ReadOnlySpan<float>(k + (long)s * width + offset, headDim).CopyTo(new Span<float>(keys + (long)s * headDim, headDim));
                    for (int d = 0; d < headDim; d++) values[(long)d * tokens + s] = v[(long)s * width + offset + d];
                }
                for (int first = 0; first < tokens; first += chunk)
                {
                    int count = Math.Min(chunk, tokens - first);
                    // The scale goes on the queries: one multiply per query value instead of one per score.
                    for (int t = 0; t < count; t++)
                        TensorPrimitives.Multiply(new ReadOnlySpan<float>(q + (long)(first + t) * width + offset, headDim), scale, new Span<float>(queries + (long)t * headDim, headDim));
                    CpuMatMul.Run(pool, isa, int8, [keyMatrix], queries, scores, count, ref workspace.Activations, workspace.ThreadScratch);
                    var rows = new Rows { Scores = scores, Width = tokens };
                    pool.For(count, &Softmax, &rows);
                    CpuMatMul.Run(pool, isa, int8, [valueMatrix], scores, result, count, ref workspace.Activations, workspace.ThreadScratch);
                    for (int t = 0; t < count; t++)
                        new ReadOnlySpan<float>(result + (long)t * headDim, headDim).CopyTo(new Span<float>(output + (long)(first + t) * width + offset, headDim));
                }
            }
        }
        finally
        {
            NativeMemory.AlignedFree(keys);
            NativeMemory.AlignedFree(values);
            NativeMemory.AlignedFree(queries);
            NativeMemory.AlignedFree(scores);
            NativeMemory.AlignedFree(result);
        }
    }

    private static float* Allocate(long floats) => (float*)NativeMemory.AlignedAlloc((nuint)(floats * sizeof(float)), 64);

    private static void Softmax(void* context, int row, int thread)
    {
        var rows = (Rows*)context;
        var scores = new Span<float>(rows->Scores + (long)row * rows->Width, rows->Width);
        TensorPrimitives.SoftMax(scores, scores);
    }
}
