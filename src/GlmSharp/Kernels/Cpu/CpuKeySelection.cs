using System.Runtime.Intrinsics.X86;
using GlmSharp.Kernels.Paging;
using GlmSharp.Tensors;

namespace GlmSharp.Kernels.Cpu;

/// <summary>
/// The lightning indexer's scoring and top-k (DeepSeek-V3.2 §2.1; GLM-5): each row scores every position it sees,
/// I_t = Σ_h w_h · ReLU(q_h · k_t), over its sequence's cached indexer keys, then keeps the k best by
/// <see cref="TopKSelection"/>. By default keys are decoded from their cache type and met by the fp32 queries in
/// matrix products (<see cref="IndexerScoreKernel{TLanes}"/>), as llama.cpp's CPU indexer scores them (its logits are
/// matched only so). The int8 indexer instead meets keys cached as Q8_0 (quantized when stored) with the queries
/// quantized to the same 32-value blocks, in integer dot products — the int8 counterpart of DeepSeek-V3.2's FP8 indexer —
/// for a quarter of the multiply work and about half the key bytes of F16.
/// </summary>
internal static unsafe class CpuKeySelection
{
    /// <summary>
    /// Rows of one sequence scored together, each key tile widened once for all of them: 8 × 32 GLM-5 heads of 128 is
    /// 128 KiB of packed queries, which stay in L2 beside the tile. 16 rows measured slower (one thread, 256 prefill rows
    /// at depth 16K: 50 against 63 GFLOP/s).
    /// </summary>
    private const int GroupRows = 8;

    internal struct Job
    {
        public float* Q, Weights;
        public int* Slots, TableStarts, BlockIds, Chosen;
        /// <summary>[groups + 1]: group i is rows [GroupStarts[i], GroupStarts[i + 1]).</summary>
        public int* GroupStarts;
        public byte* Keys;
        public long BlockBytes;
        public int Width, RowBytes, BlockPositions, Heads, TopK;
        public KvCacheType KeyType;
        public bool VectorDots;
        /// <summary>(job, first row, rows, begin, end, scores, row stride, thread scratch): a group's scores of positions [begin, end).</summary>
        public delegate*<Job*, int, int, int, int, float*, long, byte*, void> ScoreGroup;
        public NativeBuffer* Scratch;
        /// <summary>Bytes at the start of each thread's scratch for <see cref="ScoreGroup"/>; with one item per group, the group's scores and a row's top-k order follow.</summary>
        public long GroupScratchBytes;
        /// <summary>With positions split between threads: [rows, Longest] scores, then [rows, Longest] top-k working order.</summary>
        public float* SharedScores;
        public int Splits, Longest, Rows;

        public readonly byte* KeyRow(int* table, int t) => Keys + table[t / BlockPositions] * BlockBytes + (long)(t % BlockPositions) * RowBytes;
    }

    /// <param name="isa">Float scoring on 512- or 256-bit registers from <see cref="CpuIsa.Avx2"/> on where the key width allows,
    /// the same kernel one value at a time (the reference) below; integer dots on 256-bit vectors from AVX2 on, the scalar reference below.</param>
    /// <param name="int8">Score Q8_0 keys in integer dot products (the int8 indexer) instead of decoding them.</param>
    /// <remarks>
    /// One work item per group of rows of one sequence (prefill), unless there are fewer groups than threads (a decode
    /// step): then each group's positions are split between the threads, which score them into one shared buffer, and
    /// each row's top-k is chosen from it after. A position's score is computed the same way either way.
    /// </remarks>
    public static void Run(WorkerPool pool, CpuIsa isa, bool int8, float* q, float* weights, CacheRows rows, PagedStream keys, int heads, int topK, int* chosen,
        NativeBuffer* scratch)
    {
        int longest = rows.LongestVisible();
        if (longest <= topK) return; // every row keeps every position: nothing to choose
        int groupRows = GroupLimit(int8, keys);
        Span<int> groupStarts = stackalloc int[rows.Count + 1];
        int groups = Group(rows, groupRows, groupStarts);
        int splits = groups < pool.Threads ? pool.Threads : 1;
        fixed (int* slots = rows.Slots, tableStarts = rows.TableStarts, blockIds = rows.BlockIds, starts = groupStarts)
        {
            var job = CreateJob(isa, int8, q, weights, slots, tableStarts, blockIds, starts, rows.Count, longest, keys, heads, topK, splits, scratch);
            job.Chosen = chosen;
            // A thread's own: the kernel's scratch, then (one item per group) the group's scores and one row's top-k order.
            long own = job.GroupScratchBytes + (splits > 1 ? 0 : (long)(groupRows + 1) * longest * sizeof(float));
            long shared = splits > 1 ? (long)rows.Count * longest * (sizeof(float) + sizeof(int)) : 0;
            for (int i = 0; i < pool.Threads; i++) scratch[i].Ensure(own + (i == 0 ? shared : 0));
            job.SharedScores = splits > 1 ? (float*)(scratch[0].Pointer + own) : null;
            if (splits == 1) pool.For(groups, &SelectGroup, &job);
            else
            {
                pool.For(groups * splits, &ScoreSplit, &job);
                pool.For(rows.Count, &SelectShared, &job);
            }
        }
    }

    /// <summary>
    /// Every row's score of every position it sees into scores [rows, longest visible], each group's positions split
    /// between <paramref name="splits"/> items as a decode step splits them: the scores <see cref="Run"/> chooses from.
    /// </summary>
    internal static void Score(WorkerPool pool, CpuIsa isa, bool int8, float* q, float* weights, CacheRows rows, PagedStream keys, int heads, int splits,
        float* scores, NativeBuffer* scratch)
    {
        Span<int> groupStarts = stackalloc int[rows.Count + 1];
        int groups = Group(rows, GroupLimit(int8, keys), groupStarts);
        fixed (int* slots = rows.Slots, tableStarts = rows.TableStarts, blockIds = rows.BlockIds, starts = groupStarts)
        {
            var job = CreateJob(isa, int8, q, weights, slots, tableStarts, blockIds, starts, rows.Count, rows.LongestVisible(), keys, heads, 0, splits, scratch);
            job.SharedScores = scores;
            for (int i = 0; i < pool.Threads; i++) scratch[i].Ensure(job.GroupScratchBytes);
            pool.For(groups * splits, &ScoreSplit, &job);
        }
    }

    private static Job CreateJob(CpuIsa isa, bool int8, float* q, float* weights, int* slots, int* tableStarts, int* blockIds, int* groupStarts,
        int rows, int longest, PagedStream keys, int heads, int topK, int splits, NativeBuffer* scratch)
    {
        var score = Kernel(isa, int8, keys, heads, out long bytes);
        return new Job
        {
            Q = q, Weights = weights, Slots = slots, TableStarts = tableStarts, BlockIds = blockIds, GroupStarts = groupStarts,
            Keys = keys.Base, BlockBytes = keys.BlockBytes, Width = keys.Width, RowBytes = keys.RowBytes, BlockPositions = keys.BlockPositions,
            KeyType = keys.ElementType, VectorDots = isa >= CpuIsa.Avx2, Heads = heads, TopK = topK, Scratch = scratch,
            ScoreGroup = score, GroupScratchBytes = (bytes + 63) & ~63L, Splits = splits, Longest = longest, Rows = rows,
        };
    }

    /// <summary>The scoring for the path, key type and width, and the scratch it takes for a group of up to <see cref="GroupRows"/>.</summary>
    private static delegate*<Job*, int, int, int, int, float*, long, byte*, void> Kernel(CpuIsa isa, bool int8, PagedStream keys, int heads, out long bytes)
    {
        int width = keys.Width;
        if (int8 && keys.ElementType == KvCacheType.Q8_0)
        {
            bytes = IntegerQueryBytes(heads, width);
            return &IntegerScores;
        }
        if (isa == CpuIsa.Avx512 && width % Lanes512.Count == 0)
        {
            bytes = IndexerScoreKernel<Lanes512>.ScratchBytes(GroupRows, heads, width);
            return &IndexerScoreKernel<Lanes512>.ScoreGroup;
        }
        if (isa >= CpuIsa.Avx2 && width % Lanes256.Count == 0)
        {
            bytes = IndexerScoreKernel<Lanes256>.ScratchBytes(GroupRows, heads, width);
            return &IndexerScoreKernel<Lanes256>.ScoreGroup;
        }
        bytes = IndexerScoreKernel<Lanes1>.ScratchBytes(GroupRows, heads, width);
        return &IndexerScoreKernel<Lanes1>.ScoreGroup;
    }

    /// <summary>The int8 indexer scores row by row (its queries are quantized per row); the fp32 kernel takes groups.</summary>
    private static int GroupLimit(bool int8, PagedStream keys) => int8 && keys.ElementType == KvCacheType.Q8_0 ? 1 : GroupRows;

    /// <summary>Runs of consecutive rows of one sequence (one block table), at most <paramref name="limit"/> long; returns how many.</summary>
    private static int Group(CacheRows rows, int limit, Span<int> starts)
    {
        int groups = 0;
        for (int r = 0; r < rows.Count; r++)
            if (r == 0 || r - starts[groups - 1] == limit || rows.TableStarts[r] != rows.TableStarts[r - 1]) starts[groups++] = r;
        starts[groups] = rows.Count;
        return groups;
    }

    /// <summary>The position after the last that any of the group's rows sees.</summary>
    private static int GroupEnd(Job* job, int first, int count)
    {
        int end = 0;
        for (int r = first; r < first + count; r++) end = Math.Max(end, job->Slots[r] + 1);
        return end;
    }

    private static void ScoreSplit(void* context, int item, int thread)
    {
        var job = (Job*)context;
        int group = item / job->Splits, split = item % job->Splits;
        int first = job->GroupStarts[group], count = job->GroupStarts[group + 1] - first, end = GroupEnd(job, first, count);
        int length = (end + job->Splits - 1) / job->Splits, begin = split * length;
        if (begin >= end || end <= job->TopK) return; // no row of the group has anything to choose: widen no keys for it
        job->ScoreGroup(job, first, count, begin, Math.Min(end, begin + length), job->SharedScores + (long)first * job->Longest, job->Longest,
            job->Scratch[thread].Pointer);
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

    /// <summary>A group's rows scored on this thread into its own [rows, Longest] scores, then each row's top-k.</summary>
    private static void SelectGroup(void* context, int group, int thread)
    {
        var job = (Job*)context;
        int first = job->GroupStarts[group], count = job->GroupStarts[group + 1] - first, end = GroupEnd(job, first, count);
        if (end <= job->TopK) return;
        byte* scratch = job->Scratch[thread].Pointer;
        var scores = (float*)(scratch + job->GroupScratchBytes);
        job->ScoreGroup(job, first, count, 0, end, scores, job->Longest, scratch);
        var order = new Span<int>(scores + (long)count * job->Longest, job->Longest);
        for (int g = 0; g < count; g++)
        {
            int visible = job->Slots[first + g] + 1;
            if (visible <= job->TopK) continue;
            TopKSelection.Select(new Span<float>(scores + (long)g * job->Longest, visible), order[..visible],
                new Span<int>(job->Chosen + (long)(first + g) * job->TopK, job->TopK));
        }
    }

    /// <summary>Each head's query block scales and scaled code sums ([heads, width / 32] each), then its codes ([heads, width]).</summary>
    private static long IntegerQueryBytes(int heads, int width) => 2L * heads * (width / Int8Kernels.Block) * sizeof(float) + (long)heads * width;

    /// <summary>
    /// Each row's heads as Q8_0 blocks of queries, then Σ_h w_h · ReLU(Σ_blocks d_k·d_q·(k codes · q codes)) for each
    /// position of [begin, end) the row sees, into scores[g·stride + t].
    /// </summary>
    private static void IntegerScores(Job* job, int firstRow, int rows, int begin, int end, float* scores, long stride, byte* scratch)
    {
        int width = job->Width, heads = job->Heads, blocks = width / Int8Kernels.Block;
        float* queryScales = (float*)scratch, querySums = queryScales + heads * blocks;
        var queryCodes = (sbyte*)(querySums + heads * blocks);
        bool vnni = AvxVnni.IsSupported;
        for (int g = 0; g < rows; g++)
        {
            int r = firstRow + g, visible = Math.Min(end, job->Slots[r] + 1);
            if (job->Slots[r] + 1 <= job->TopK) continue;
            float* q = job->Q + (long)r * heads * width, w = job->Weights + (long)r * heads;
            for (int h = 0; h < heads; h++)
            {
                float* row = q + (long)h * width;
                sbyte* codes = queryCodes + h * width;
                float* scales = queryScales + h * blocks, sums = querySums + h * blocks;
                if (job->VectorDots) Int8Kernels.QuantizeActivations(row, width, codes, scales, sums, ActivationLayout.Natural);
                else ScalarKernels.QuantizeActivations(row, width, codes, scales, sums);
            }
            int* table = job->BlockIds + job->TableStarts[r];
            for (int t = begin; t < visible; t++)
            {
                byte* key = job->KeyRow(table, t);
                float score = 0;
                for (int h = 0; h < heads; h++)
                {
                    sbyte* codes = queryCodes + h * width;
                    float* scales = queryScales + h * blocks, sums = querySums + h * blocks;
                    float dot = !job->VectorDots ? ScalarKernels.DotQuantizedRow(GgmlType.Q8_0, key, codes, scales, blocks)
                        : vnni ? Int8Kernels.DotQ8_0<VnniDot>(key, codes, scales, sums, blocks)
                        : Int8Kernels.DotQ8_0<SignedDot>(key, codes, scales, sums, blocks);
                    if (dot > 0) score += w[h] * dot;
                }
                scores[g * stride + t] = score;
            }
        }
    }
}
