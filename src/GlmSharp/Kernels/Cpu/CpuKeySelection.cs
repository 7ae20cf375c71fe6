using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using GlmSharp.Kernels.Paging;
using GlmSharp.Tensors;

namespace GlmSharp.Kernels.Cpu;

/// <summary>
/// The lightning indexer's scoring and top-k (DeepSeek-V3.2 §2.1; GLM-5): one work item per row scores every position
/// the row sees, I_t = Σ_h w_h · ReLU(q_h · k_t), over its sequence's cached indexer keys, then keeps the k best by
/// <see cref="TopKSelection"/>. By default keys are decoded from their cache type and met by the fp32 queries, as
/// llama.cpp's CPU indexer scores them (its logits are matched only so). The int8 indexer instead meets keys cached as
/// Q8_0 (quantized when stored) with the queries quantized to the same 32-value blocks, in integer dot products — the
/// int8 counterpart of DeepSeek-V3.2's FP8 indexer — for a quarter of the multiply work and about half the key bytes of F16.
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
        public bool IntegerDots, VectorDots;
        public NativeBuffer* Scratch;
        /// <summary>With positions split between threads: [rows, Longest] scores, then [rows, Longest] top-k working order.</summary>
        public float* SharedScores;
        public int Splits, Longest, Rows;
    }

    /// <summary>
    /// One thread's memory for a row: a decoded key (F32/F16 keys) or the quantized queries (Q8_0 keys: each head's block
    /// scales, scaled code sums and codes), then the row's scores and the top-k's working order.
    /// </summary>
    private readonly struct RowScratch(byte* start, int heads, int width)
    {
        private readonly int _blocks = width / Int8Kernels.Block;

        private static long QueryBytes(int heads, int width) =>
            (long)width * sizeof(float) + 2L * heads * (width / Int8Kernels.Block) * sizeof(float) + (long)heads * width;

        private static long ScoresStart(int heads, int width) => (QueryBytes(heads, width) + 63) & ~63L;

        public static long Bytes(int heads, int width, int visible) => ScoresStart(heads, width) + (long)visible * (sizeof(float) + sizeof(int));

        /// <summary>[width]</summary>
        public float* Key => (float*)start;
        /// <summary>[heads, width / 32]</summary>
        public float* QueryScales => Key + width;
        /// <summary>[heads, width / 32]</summary>
        public float* QuerySums => QueryScales + heads * _blocks;
        /// <summary>[heads, width]</summary>
        public sbyte* QueryCodes => (sbyte*)(QuerySums + heads * _blocks);
        /// <summary>[visible]</summary>
        public Span<float> Scores(int visible) => new(start + ScoresStart(heads, width), visible);
        /// <summary>[visible]</summary>
        public Span<int> Order(int visible) => new(start + ScoresStart(heads, width) + (long)visible * sizeof(float), visible);
    }

    /// <param name="isa">Integer dots on 256-bit vectors from <see cref="CpuIsa.Avx2"/> on, the scalar reference below it.</param>
    /// <param name="int8">Score Q8_0 keys in integer dot products (the int8 indexer) instead of decoding them.</param>
    /// <remarks>
    /// One work item per row, unless there are fewer rows than threads (a decode step): then each row's positions are
    /// split between the threads, which score them into one shared buffer, and each row's top-k is chosen from it after.
    /// A position's score is computed the same way either way.
    /// </remarks>
    public static void Run(WorkerPool pool, CpuIsa isa, bool int8, float* q, float* weights, CacheRows rows, PagedStream keys, int heads, int topK, int* chosen,
        NativeBuffer* scratch)
    {
        int longest = rows.LongestVisible();
        int splits = rows.Count < pool.Threads && longest > topK ? pool.Threads : 1;
        long own = (RowScratch.Bytes(heads, keys.Width, splits > 1 ? 0 : longest) + 63) & ~63L;
        long shared = splits > 1 ? (long)rows.Count * longest * (sizeof(float) + sizeof(int)) : 0;
        for (int i = 0; i < pool.Threads; i++) scratch[i].Ensure(own + (i == 0 ? shared : 0));
        fixed (int* slots = rows.Slots, tableStarts = rows.TableStarts, blockIds = rows.BlockIds)
        {
            var job = new Job
            {
                Q = q, Weights = weights, Slots = slots, TableStarts = tableStarts, BlockIds = blockIds, Chosen = chosen,
                Keys = keys.Base, BlockBytes = keys.BlockBytes, Width = keys.Width, RowBytes = keys.RowBytes, BlockPositions = keys.BlockPositions,
                KeyType = keys.ElementType, IntegerDots = int8 && keys.ElementType == KvCacheType.Q8_0, VectorDots = isa >= CpuIsa.Avx2, Heads = heads, TopK = topK, Scratch = scratch,
                SharedScores = splits > 1 ? (float*)(scratch[0].Pointer + own) : null, Splits = splits, Longest = longest, Rows = rows.Count,
            };
            if (splits == 1) pool.For(rows.Count, &SelectRow, &job);
            else
            {
                pool.For(rows.Count * splits, &ScoreSplit, &job);
                pool.For(rows.Count, &SelectShared, &job);
            }
        }
    }

    private static void ScoreSplit(void* context, int item, int thread)
    {
        var job = (Job*)context;
        int r = item / job->Splits, split = item % job->Splits;
        int visible = job->Slots[r] + 1;
        if (visible <= job->TopK) return;
        int length = (visible + job->Splits - 1) / job->Splits, first = split * length;
        if (first >= visible) return;
        var scratch = new RowScratch(job->Scratch[thread].Pointer, job->Heads, job->Width);
        var scores = new Span<float>(job->SharedScores + (long)r * job->Longest + first, Math.Min(length, visible - first));
        if (job->IntegerDots) IntegerScores(job, r, scratch, scores, first);
        else FloatScores(job, r, scratch, scores, first);
    }

    private static void SelectShared(void* context, int r, int thread)
    {
        var job = (Job*)context;
        int visible = job->Slots[r] + 1;
        if (visible <= job->TopK) return;
        var scores = new Span<float>(job->SharedScores + (long)r * job->Longest, visible);
        var order = new Span<int>((int*)(job->SharedScores + (long)job->Rows * job->Longest) + (long)r * job->Longest, visible);
        TopKSelection.Select(scores, order, new Span<int>(job->Chosen + (long)r * job->TopK, job->TopK));
    }

    private static void SelectRow(void* context, int r, int thread)
    {
        var job = (Job*)context;
        int visible = job->Slots[r] + 1;
        if (visible <= job->TopK) return; // every position is kept: nothing to choose
        var scratch = new RowScratch(job->Scratch[thread].Pointer, job->Heads, job->Width);
        var scores = scratch.Scores(visible);
        if (job->IntegerDots) IntegerScores(job, r, scratch, scores, 0);
        else FloatScores(job, r, scratch, scores, 0);
        TopKSelection.Select(scores, scratch.Order(visible), new Span<int>(job->Chosen + (long)r * job->TopK, job->TopK));
    }

    private static byte* KeyRow(Job* job, int* table, int t) =>
        job->Keys + table[t / job->BlockPositions] * job->BlockBytes + (long)(t % job->BlockPositions) * job->RowBytes;

    /// <summary>Scores of positions <paramref name="first"/> … + scores.Length.</summary>
    private static void FloatScores(Job* job, int r, RowScratch scratch, Span<float> scores, int first)
    {
        int width = job->Width, heads = job->Heads;
        var key = new Span<float>(scratch.Key, width);
        int* table = job->BlockIds + job->TableStarts[r];
        float* q = job->Q + (long)r * heads * width, w = job->Weights + (long)r * heads;
        for (int t = 0; t < scores.Length; t++)
        {
            var row = new ReadOnlySpan<byte>(KeyRow(job, table, first + t), job->RowBytes);
            switch (job->KeyType)
            {
                case KvCacheType.F32: MemoryMarshal.Cast<byte, float>(row).CopyTo(key); break;
                case KvCacheType.F16: Fp16.Decode(row, key); break;
                default: Q8_0.Dequantize(row, key); break;
            }
            float score = 0;
            for (int h = 0; h < heads; h++)
            {
                float dot = TensorPrimitives.Dot(new ReadOnlySpan<float>(q + (long)h * width, width), key);
                if (dot > 0) score += w[h] * dot;
            }
            scores[t] = score;
        }
    }

    /// <summary>Each head's query as Q8_0 blocks once per row, then Σ_h w_h · ReLU(Σ_blocks d_k·d_q·(k codes · q codes)) per position.</summary>
    private static void IntegerScores(Job* job, int r, RowScratch scratch, Span<float> scores, int first)
    {
        int width = job->Width, heads = job->Heads, blocks = width / Int8Kernels.Block;
        float* q = job->Q + (long)r * heads * width, w = job->Weights + (long)r * heads;
        for (int h = 0; h < heads; h++)
        {
            float* row = q + (long)h * width;
            sbyte* codes = scratch.QueryCodes + h * width;
            float* scales = scratch.QueryScales + h * blocks, sums = scratch.QuerySums + h * blocks;
            if (job->VectorDots) Int8Kernels.QuantizeActivations(row, width, codes, scales, sums, ActivationLayout.Natural);
            else ScalarKernels.QuantizeActivations(row, width, codes, scales, sums);
        }
        int* table = job->BlockIds + job->TableStarts[r];
        bool vnni = AvxVnni.IsSupported;
        for (int t = 0; t < scores.Length; t++)
        {
            byte* key = KeyRow(job, table, first + t);
            float score = 0;
            for (int h = 0; h < heads; h++)
            {
                sbyte* codes = scratch.QueryCodes + h * width;
                float* scales = scratch.QueryScales + h * blocks, sums = scratch.QuerySums + h * blocks;
                float dot = !job->VectorDots ? ScalarKernels.DotQuantizedRow(GgmlType.Q8_0, key, codes, scales, blocks)
                    : vnni ? Int8Kernels.DotQ8_0<VnniDot>(key, codes, scales, sums, blocks)
                    : Int8Kernels.DotQ8_0<SignedDot>(key, codes, scales, sums, blocks);
                if (dot > 0) score += w[h] * dot;
            }
            scores[t] = score;
        }
    }
}
