using System.Numerics.Tensors;
using GlmSharp.Kernels.Paging;
using GlmSharp.Tensors;

namespace GlmSharp.Kernels.Cpu;

/// <summary>
/// The lightning indexer's scoring and top-k (DeepSeek-V3.2 §2.1; GLM-5): one work item per row scores every position
/// the row sees, I_t = Σ_h w_h · ReLU(q_h · k_t), over its sequence's cached indexer keys, then keeps the k best by
/// <see cref="TopKSelection"/>. This is the scalar-correct path: fp32 dot products over keys decoded from the cache
/// type, which llama.cpp's fused CPU indexer also computes in fp32.
/// </summary>
internal static unsafe class CpuKeySelection
{
    private struct Job
    {
        public float* Q, Weights;
        public int* Slots, TableStarts, BlockIds, Chosen;
        public byte* Keys;
        public long BlockBytes;
        public int Width, RowBytes, BlockPositions, Heads, TopK;
        public KvCacheType KeyType;
        public NativeBuffer* Scratch;
    }

    public static void Run(WorkerPool pool, float* q, float* weights, CacheRows rows, PagedStream keys, int heads, int topK, int* chosen, NativeBuffer* scratch)
    {
        int longest = rows.LongestVisible();
        for (int i = 0; i < pool.Threads; i++)
            scratch[i].Ensure((long)longest * (sizeof(float) + sizeof(int)) + (long)keys.Width * sizeof(float));
        fixed (int* slots = rows.Slots, tableStarts = rows.TableStarts, blockIds = rows.BlockIds)
        {
            var job = new Job
            {
                Q = q, Weights = weights, Slots = slots, TableStarts = tableStarts, BlockIds = blockIds, Chosen = chosen,
                Keys = keys.Base, BlockBytes = keys.BlockBytes, Width = keys.Width, RowBytes = keys.RowBytes, BlockPositions = keys.BlockPositions,
                KeyType = keys.ElementType, Heads = heads, TopK = topK, Scratch = scratch,
            };
            pool.For(rows.Count, &SelectRow, &job);
        }
    }

    private static void SelectRow(void* context, int r, int thread)
    {
        var job = (Job*)context;
        int visible = job->Slots[r] + 1, width = job->Width, heads = job->Heads, topK = job->TopK, blockPositions = job->BlockPositions;
        if (visible <= topK) return; // every position is kept: nothing to choose
        byte* memory = job->Scratch[thread].Pointer;
        var scores = new Span<float>(memory, visible);
        var order = new Span<int>(memory + (long)visible * sizeof(float), visible);
        var key = new Span<float>(memory + (long)visible * (sizeof(float) + sizeof(int)), width);
        int* table = job->BlockIds + job->TableStarts[r];
        float* q = job->Q + (long)r * heads * width, w = job->Weights + (long)r * heads;
        for (int t = 0; t < visible; t++)
        {
            Decode(job->KeyType, job->Keys + table[t / blockPositions] * job->BlockBytes + (long)(t % blockPositions) * job->RowBytes, job->RowBytes, key);
            float score = 0;
            for (int h = 0; h < heads; h++)
            {
                float dot = TensorPrimitives.Dot(new ReadOnlySpan<float>(q + (long)h * width, width), key);
                if (dot > 0) score += w[h] * dot;
            }
            scores[t] = score;
        }
        TopKSelection.Select(scores, order, new Span<int>(job->Chosen + (long)r * topK, topK));
    }

    private static void Decode(KvCacheType type, byte* row, int rowBytes, Span<float> key)
    {
        var bytes = new ReadOnlySpan<byte>(row, rowBytes);
        switch (type)
        {
            case KvCacheType.F32: new ReadOnlySpan<float>(row, key.Length).CopyTo(key); break;
            case KvCacheType.F16: Fp16.Decode(bytes, key); break;
            default: Q8_0.Dequantize(bytes, key); break;
        }
    }
}
