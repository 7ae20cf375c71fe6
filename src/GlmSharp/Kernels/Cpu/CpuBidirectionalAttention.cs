using System.Runtime.InteropServices;

namespace GlmSharp.Kernels.Cpu;

/// <summary>
/// The vision tower's attention — every patch against every patch of one image, no mask — flash-style: one head at a
/// time, its keys packed transposed in tiles and its values side by side, then each block of queries walks the key tiles
/// with an online softmax (<see cref="BidirectionalAttentionKernel{TLanes}"/>), so that nothing of size n² or block × n
/// exists and every product runs on tiles held in L1/L2. (The previous form, two float GEMMs per head and 256 queries with
/// a 256 × n score matrix between them — 43 MB at a 4K image's 42,196 patches — ran at 55 GFLOP/s on 2 Zen 3 threads.)
/// </summary>
internal static unsafe class CpuBidirectionalAttention
{
    /// <summary>
    /// Keys per tile, a multiple of two registers of the widest lanes. With 96 queries a tile's scores are 24 KB and a tile
    /// of keys of 128 values 32 KB; 64 keys × 96 queries measured 99–110 GFLOP/s where 128 × 48 measured 74 (5,476 patches,
    /// 2 Avx2 threads, single runs on a busy machine; 32-key tiles and 24- or 192-query blocks were slower).
    /// </summary>
    public const int KeyTile = 64;
    /// <summary>Queries per work item, a multiple of the kernel's six-row micro-tile: each key tile fetched serves 96.</summary>
    public const int QueryBlock = 96;

    internal struct Job
    {
        public float* Q, K, V, Output;
        /// <summary>
        /// One head's keys as [tiles, KeyTile / Panel, headDim, Panel]: a micro-tile's keys side by side for each dimension,
        /// contiguous (the tail tile's missing keys are zeros).
        /// </summary>
        public float* PackedKeys;
        /// <summary>
        /// One head's values as [tiles, headDim / Panel, KeyTile, Panel] (a last group of dimensions narrower than
        /// Panel is as wide as it is): a micro-tile's dimensions of every key of the tile, contiguous.
        /// </summary>
        public float* PackedValues;
        /// <summary>Keys or dimensions per micro-tile: two registers of the kernel's lanes.</summary>
        public int Panel;
        public int Tokens, Width, HeadDim, Offset;
        public float Scale;
        public NativeBuffer* Scratch;
    }

    public static void Run(WorkerPool pool, CpuIsa isa, CpuWorkspace workspace, float* q, float* k, float* v, float* output,
        int tokens, int heads, int headDim, float scale)
    {
        int tiles = (tokens + KeyTile - 1) / KeyTile;
        var job = new Job
        {
            Q = q, K = k, V = v, Output = output, Tokens = tokens, Width = heads * headDim, HeadDim = headDim, Scale = scale,
            Scratch = workspace.ThreadScratch,
            PackedKeys = Allocate((long)tiles * KeyTile * headDim),
            PackedValues = Allocate((long)tiles * KeyTile * headDim),
        };
        try
        {
            for (int t = 0; t < pool.Threads; t++) workspace.ThreadScratch[t].Ensure(AttentionScratch.Bytes(headDim));
            var kernel = Kernel(isa, headDim, out job.Panel);
            for (int head = 0; head < heads; head++)
            {
                job.Offset = head * headDim;
                pool.For(tiles, &Pack, &job);
                pool.For((tokens + QueryBlock - 1) / QueryBlock, kernel, &job);
            }
        }
        finally
        {
            NativeMemory.AlignedFree(job.PackedKeys);
            NativeMemory.AlignedFree(job.PackedValues);
        }
    }

    /// <summary>The widest lanes that divide the head size; one float at a time (the reference path) otherwise.</summary>
    private static delegate*<void*, int, int, void> Kernel(CpuIsa isa, int headDim, out int panel)
    {
        if (isa == CpuIsa.Avx512 && headDim % 16 == 0)
        {
            panel = 2 * Lanes512.Count;
            return &BidirectionalAttentionKernel<Lanes512>.RunItem;
        }
        if (isa is CpuIsa.Avx2 or CpuIsa.Avx512 && headDim % 8 == 0)
        {
            panel = 2 * Lanes256.Count;
            return &BidirectionalAttentionKernel<Lanes256>.RunItem;
        }
        panel = 2 * Lanes1.Count;
        return &BidirectionalAttentionKernel<Lanes1>.RunItem;
    }

    private static float* Allocate(long floats) => (float*)NativeMemory.AlignedAlloc((nuint)(floats * sizeof(float)), 64);

    /// <summary>
    /// One key tile of the current head into the packed layouts, each micro-tile's operand contiguous: with a row stride of
    /// KeyTile floats (512 bytes) a micro-tile's 128 rows fell into 8 of L1's 64 sets, and the panel missed L1 at every pass.
    /// </summary>
    private static void Pack(void* context, int tile, int thread)
    {
        var job = (Job*)context;
        int headDim = job->HeadDim, panel = job->Panel, first = tile * KeyTile, count = Math.Min(KeyTile, job->Tokens - first);
        float* keys = job->PackedKeys + (long)tile * KeyTile * headDim, values = job->PackedValues + (long)tile * KeyTile * headDim;
        if (count < KeyTile) new Span<float>(keys, KeyTile * headDim).Clear();
        for (int j = 0; j < count; j++)
        {
            float* key = job->K + (long)(first + j) * job->Width + job->Offset, value = job->V + (long)(first + j) * job->Width + job->Offset;
            float* keyColumn = keys + (long)(j / panel) * panel * headDim + j % panel;
            for (int d = 0; d < headDim; d++) keyColumn[d * panel] = key[d];
            for (int d = 0; d < headDim; d += panel)
            {
                int width = Math.Min(panel, headDim - d);
                new ReadOnlySpan<float>(value + d, width).CopyTo(new Span<float>(values + (long)d * KeyTile + j * width, width));
            }
        }
    }
}

/// <summary>
/// One thread's working memory for a block of queries: the queries (scaled), their scores against one key tile (turned
/// into weights in place), their unnormalised outputs, and per query the running maximum and sum of weights.
/// </summary>
internal readonly unsafe struct AttentionScratch(float* start, int headDim)
{
    private const int Rows = CpuBidirectionalAttention.QueryBlock;

    public static long Bytes(int headDim) => ((2L * Rows * headDim) + (long)Rows * CpuBidirectionalAttention.KeyTile + 2 * Rows) * sizeof(float);

    /// <summary>[QueryBlock, headDim]</summary>
    public float* Queries => start;
    /// <summary>[QueryBlock, headDim]</summary>
    public float* Outputs => Queries + (long)Rows * headDim;
    /// <summary>[QueryBlock, KeyTile]</summary>
    public float* Scores => Outputs + (long)Rows * headDim;
    /// <summary>[QueryBlock] each</summary>
    public float* Maxima => Scores + (long)Rows * CpuBidirectionalAttention.KeyTile;
    public float* Sums => Maxima + Rows;
}
