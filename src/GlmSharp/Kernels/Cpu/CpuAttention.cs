using System.Numerics.Tensors;
using GlmSharp.Kernels.Paging;

namespace GlmSharp.Kernels.Cpu;

/// <summary>
/// Causal grouped-query attention over one layer's paged cache, fused: no score matrix, only a tile of scores per
/// thread. Each row reads its own sequence through that sequence's block table; a tile never straddles two blocks
/// (blocks are whole tiles, or tiles whole blocks), so within a tile a head's rows are contiguous.
/// A work item is one query row, one kv head and one stretch of positions; it serves every query head that reads
/// that kv head, so each cached key and value row is fetched from memory once per step however many heads share
/// it. Scores are folded in tile by tile with a running maximum and sum (online softmax). When rows × kv heads
/// cannot keep the threads busy — decoding one token over GLM's two kv heads — the positions are split as well and
/// the pieces' partial sums merged afterwards. How positions are split depends only on the step's longest row (for
/// sparse attention, the most positions a row attends to) and the thread count, and the merge order is fixed, so a
/// row's result does not depend on which rows share its step unless that changes the split.
/// </summary>
internal static unsafe class CpuAttention
{
    /// <summary>Positions scored before their weights are applied: 64 F16 rows of 128 values stay within L1.</summary>
    public const int Tile = 64;

    internal struct Job
    {
        public float* Q, Output, Partials;
        public byte* Keys, Values;
        public int* Slots, TableStarts, BlockIds;
        /// <summary>
        /// [rows, TopK] ascending slots each row attends to when it sees more than TopK positions; null for dense attention.
        /// Only latent attention chooses, so a chosen row's value lies inside its key row, <see cref="Values"/> − <see cref="Keys"/> bytes in.
        /// </summary>
        public int* Chosen;
        public int TopK;
        public int Heads, KvHeads, Group, HeadDim, ValueDim, Splits, SplitLength, RowBytes, BlockPositions, TilePositions;
        public long BlockBytes, HeadBytes;
        public float Scale;
        public NativeBuffer* Scratch;

        /// <summary>Where head <paramref name="kv"/>'s rows of slot <paramref name="slot"/> (and the tile from it) start, for keys or values.</summary>
        public readonly long Offset(int* table, int slot, int kv) =>
            table[slot / BlockPositions] * BlockBytes + kv * HeadBytes + (long)(slot % BlockPositions) * RowBytes;

        /// <summary>Floats of one item's partial result: the group's unnormalised outputs, then their maxima and sums.</summary>
        public readonly long PartialFloats => (long)Group * (ValueDim + 2);

        /// <summary>
        /// How many positions row <paramref name="r"/> attends to, counted in the order its splits divide them: its visible
        /// slots, or its chosen ones when it sees more than TopK (then <paramref name="chosen"/> lists them, else it is null).
        /// </summary>
        public readonly int Attended(int r, out int* chosen)
        {
            int visible = Slots[r] + 1;
            chosen = Chosen != null && visible > TopK ? Chosen + (long)r * TopK : null;
            return chosen != null ? TopK : visible;
        }
    }

    /// <summary>
    /// One thread's working memory for an item: the tile's scores (turned into weights in place), the running maxima
    /// and sums, and the queries as rounded for the cache type (fp16 values, or Q8_0 codes with their block scales).
    /// </summary>
    internal readonly struct ThreadScratch(float* start, int group, int headDim)
    {
        private readonly int _blocks = headDim / Int8Kernels.Block;
        private readonly int _queryValues = group * headDim;

        private static long QueryBytes(int group, int headDim) =>
            (long)group * (Tile + 2 + 2 * (headDim / Int8Kernels.Block) + headDim) * sizeof(float) + (long)group * headDim * sizeof(ushort);

        private static long GatherStart(int group, int headDim) => (QueryBytes(group, headDim) + 63) & ~63L;

        public static long Bytes(int group, int headDim, int rowBytes) => GatherStart(group, headDim) + (long)Tile * rowBytes;

        /// <summary>[group, Tile]</summary>
        public float* Weights => start;
        /// <summary>[group] then the sums [group], when the item's result needs no merging.</summary>
        public float* Maxima => start + group * Tile;
        /// <summary>[group, headDim / 32]</summary>
        public float* QueryScales => Maxima + 2 * group;
        /// <summary>[group, headDim / 32]</summary>
        public float* QuerySums => QueryScales + group * _blocks;
        /// <summary>[group, headDim]</summary>
        public float* Queries => QuerySums + group * _blocks;
        /// <summary>[group, headDim] Q8_0 codes, or the fp16 bits of the queries on their way to <see cref="Queries"/>.</summary>
        public void* QueryCodes => Queries + _queryValues;
        /// <summary>[Tile, rowBytes] a tile's chosen cache rows copied side by side, as stored.</summary>
        public byte* Gathered => (byte*)start + GatherStart(group, headDim);
    }

    public static void Run(WorkerPool pool, CpuIsa isa, float* q, CacheRows cacheRows, PagedStream keys, PagedStream values, float* output,
        int heads, float scale, NativeBuffer* scratch, ref NativeBuffer partials) =>
        Run(pool, isa, q, cacheRows, keys, values.Base, values.Width, output, heads, scale, null, 0, latent: false, scratch, ref partials);

    /// <summary>
    /// MLA's absorbed attention: one cached row per position is both the key (all of it) and, from
    /// <paramref name="valueOffset"/>, the value (<paramref name="valueWidth"/> values), as one kv head that every query head reads.
    /// With <paramref name="chosen"/> ([rows, topK] ascending slots), a row that sees more than topK positions attends to
    /// those only (DeepSeek sparse attention): their rows are gathered from the pages a tile at a time and attended as a
    /// dense tile is, so such a row costs O(topK) however long its context, and the threads split its chosen slots.
    /// </summary>
    public static void RunLatent(WorkerPool pool, CpuIsa isa, float* q, CacheRows cacheRows, PagedStream latents, int valueOffset, int valueWidth,
        float* output, int heads, float scale, int* chosen, int topK, NativeBuffer* scratch, ref NativeBuffer partials) =>
        Run(pool, isa, q, cacheRows, latents, latents.Base + latents.ElementType.RowBytes(valueOffset), valueWidth, output, heads, scale, chosen, topK,
            latent: true, scratch, ref partials);

    private static void Run(WorkerPool pool, CpuIsa isa, float* q, CacheRows cacheRows, PagedStream keys, byte* values, int valueDim, float* output,
        int heads, float scale, int* chosen, int topK, bool latent, NativeBuffer* scratch, ref NativeBuffer partials)
    {
        int rows = cacheRows.Count, kvHeads = keys.Heads, group = heads / kvHeads, longest = cacheRows.LongestVisible();
        if (chosen != null) longest = Math.Min(longest, topK); // no row attends to more than topK positions
        int pairs = rows * kvHeads;
        int splits = pairs >= 2 * pool.Threads ? 1 : Math.Min(CeilDiv(2 * pool.Threads, pairs), CeilDiv(longest, Tile));
        int splitLength = CeilDiv(CeilDiv(longest, splits), Tile) * Tile;
        splits = CeilDiv(longest, splitLength);
        fixed (int* slots = cacheRows.Slots, tableStarts = cacheRows.TableStarts, blockIds = cacheRows.BlockIds)
        {
            var job = new Job
            {
                Q = q, Output = output, Keys = keys.Base, Values = values, Slots = slots, TableStarts = tableStarts, BlockIds = blockIds,
                Chosen = chosen, TopK = topK,
                Heads = heads, KvHeads = kvHeads, Group = group, HeadDim = keys.Width, ValueDim = valueDim, Splits = splits, SplitLength = splitLength,
                RowBytes = keys.RowBytes, BlockPositions = keys.BlockPositions, TilePositions = Math.Min(Tile, keys.BlockPositions),
                BlockBytes = keys.BlockBytes, HeadBytes = keys.HeadBytes, Scale = scale, Scratch = scratch,
            };
            var kernel = latent ? LatentKernel(isa, keys.ElementType, keys.Width, valueDim) : null;
            long scratchBytes = kernel != null ? LatentScratch.Bytes(group, keys.Width) : ThreadScratch.Bytes(group, keys.Width, chosen != null ? keys.RowBytes : 0);
            for (int i = 0; i < pool.Threads; i++) scratch[i].Ensure(scratchBytes);
            if (splits > 1)
            {
                partials.Ensure(pairs * splits * job.PartialFloats * sizeof(float));
                job.Partials = (float*)partials.Pointer;
            }
            pool.For(pairs * splits, kernel != null ? kernel : Kernel(isa, keys.ElementType, keys.Width, valueDim), &job);
            if (splits > 1) pool.For(rows * heads, &Merge, &job);
        }
    }

    private static int CeilDiv(int a, int b) => (a + b - 1) / b;

    /// <summary>The widest path whose register divides the head size; the scalar one is the reference the others are tested against.</summary>
    private static delegate*<void*, int, int, void> Kernel(CpuIsa isa, KvCacheType type, int headDim, int valueDim)
    {
        bool wide = isa == CpuIsa.Avx512 && headDim % 16 == 0 && valueDim % 16 == 0;
        bool avx = isa is CpuIsa.Avx2 or CpuIsa.Avx512 && headDim % 8 == 0 && valueDim % 8 == 0;
        return type switch
        {
            KvCacheType.F32 => wide ? &AttentionKernel<Lanes512, F32Load>.RunItem : avx ? &AttentionKernel<Lanes256, F32Load>.RunItem : &AttentionKernel<Lanes1, F32Load>.RunItem,
            KvCacheType.F16 => wide ? &AttentionKernel<Lanes512, F16UnbiasedLoad>.RunItem : avx ? &AttentionKernel<Lanes256, F16UnbiasedLoad>.RunItem : &AttentionKernel<Lanes1, F16Load>.RunItem,
            KvCacheType.Q8_0 => wide ? &AttentionKernel<Lanes512, Q8_0RowLoad>.RunItem : avx ? &AttentionKernel<Lanes256, Q8_0RowLoad>.RunItem : &AttentionKernel<Lanes1, Q8_0RowLoad>.RunItem,
            _ => throw new ArgumentOutOfRangeException(nameof(type), type, "not a KV cache type"),
        };
    }

    /// <summary>
    /// The latent kernel where one serves: fp32 and fp16 rows on the vector paths. Q8_0 latents keep the grouped-query kernel,
    /// whose integer dots with Q8_0-rounded queries round the scores as llama.cpp does; the scalar path stays the reference.
    /// </summary>
    private static delegate*<void*, int, int, void> LatentKernel(CpuIsa isa, KvCacheType type, int headDim, int valueDim)
    {
        bool wide = isa == CpuIsa.Avx512 && headDim % 16 == 0 && valueDim % 16 == 0;
        bool avx = isa is CpuIsa.Avx2 or CpuIsa.Avx512 && headDim % 8 == 0 && valueDim % 8 == 0;
        return type switch
        {
            KvCacheType.F32 when wide => &LatentAttentionKernel<Lanes512, F32Load>.RunItem,
            KvCacheType.F32 when avx => &LatentAttentionKernel<Lanes256, F32Load>.RunItem,
            KvCacheType.F16 when wide => &LatentAttentionKernel<Lanes512, F16Load>.RunItem,
            KvCacheType.F16 when avx => &LatentAttentionKernel<Lanes256, F16Load>.RunItem,
            _ => null,
        };
    }

    /// <summary>One (row, head): rescales each split's partial output to the common maximum and normalises by the summed weights.</summary>
    private static void Merge(void* context, int item, int thread)
    {
        var job = (Job*)context;
        int valueDim = job->ValueDim, group = job->Group;
        int r = item / job->Heads, h = item % job->Heads, kv = h / group, j = h % group;
        float* first = job->Partials + ((long)r * job->KvHeads + kv) * job->Splits * job->PartialFloats;
        float best = float.NegativeInfinity;
        for (int s = 0; s < job->Splits; s++)
            best = MathF.Max(best, first[s * job->PartialFloats + (long)group * valueDim + j]);
        var output = new Span<float>(job->Output + (long)item * valueDim, valueDim);
        output.Clear();
        float total = 0;
        for (int s = 0; s < job->Splits; s++)
        {
            float* split = first + s * job->PartialFloats;
            float sum = split[(long)group * valueDim + group + j];
            if (sum == 0) continue; // a split past this row's last position saw nothing
            float weight = MathF.Exp(split[(long)group * valueDim + j] - best);
            total += weight * sum;
            TensorPrimitives.MultiplyAdd(new ReadOnlySpan<float>(split + (long)j * valueDim, valueDim), weight, output, output);
        }
        TensorPrimitives.Multiply(output, 1f / total, output);
    }
}
