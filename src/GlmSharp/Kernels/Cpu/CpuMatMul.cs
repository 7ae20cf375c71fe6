using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;
using GlmSharp.Tensors;

namespace GlmSharp.Kernels.Cpu;

/// <summary>
/// y[tokens, out] = x[tokens, in] · Wᵀ on the worker pool. Work items are blocks of weight rows, so each weight
/// byte is read from memory once per call: decode streams the rows through register-level dot kernels, prefill
/// widens or unpacks the sixteen rows of an item into per-thread scratch once and passes them over the tokens in
/// chunks small enough to stay in L2 (sweeping all 512 tokens' activations per four rows streamed them from L3).
/// Quantized weights are multiplied with activations quantized once per call to 8-bit blocks. Q4_0 and Q8_0 matrices
/// the backend repacked at load (<see cref="Int8Repack"/>) are read eight rows at a time where they lie, with no
/// per-call unpacking.
/// </summary>
internal static unsafe class CpuMatMul
{
    private struct Job
    {
        public CpuIsa Isa;
        public Int8Path Int8;
        public GgmlType Type;
        public byte* Weights;
        public long RowBytes;
        public int Outputs, Inputs, Tokens, RowsPerItem;
        public float* X, Y;
        /// <summary>For F16 decode: the activations times 2¹⁰⁰ (see <see cref="F16UnbiasedLoad"/>), or null.</summary>
        public float* ScaledX;
        /// <summary>For BF16 decode on AVX2/AVX-512: the activations as BF16, or null.</summary>
        public ushort* Bf16X;
        public NativeBuffer* Scratch;
        // Quantized activations: codes [tokens, ActRowBytes], scales and block sums [tokens, ActRowBlocks].
        public sbyte* Codes;
        public float* Scales, Sums;
        /// <summary>For K-quants: Q8_K sums of each 16 codes, [tokens, Inputs / 16], and for prefill the same
        /// times their block scale as floats.</summary>
        public short* GroupSums;
        public float* ScaledGroupSums;
        public bool ScaleGroupSums;
        public int ActRowBytes, ActRowBlocks, Groups;
        public ActivationLayout Layout;
        public Fp8Kernels.Scales Fp8Scales;
        /// <summary>A few tokens multiplied by the decode kernels: Q4_0's unpacks each row once for all of them, the others run per token over rows in L1.</summary>
        public bool SmallBatch;
    }

    /// <summary>
    /// Stored-layout int8 and Q8_K types on the 256-bit paths, for up to this many tokens (a decode step of two or three
    /// sequences, a short draft to verify, the rows a batched step routes to one expert): decode kernels instead of
    /// unpacking each row into the prefill tile's scratch first. Measured for Q4_0 on [6144 × 2048], 2 threads, AVX2:
    /// 2 tokens 0.55 ms against 1.06 for the tile, 4 tokens 1.28 against 1.37, 8 tokens 1.75 against 1.46 — so from
    /// four tokens on the tile is kept.
    /// </summary>
    private const int SmallBatchTokens = 3;

    /// <summary>
    /// One-scale 32-value block types (Q4_1, Q5_0, Q5_1, IQ4_NL, MXFP4) up to this many tokens: their rows kernel passes
    /// over a weight row once for four tokens. In-cache [1408 × 4096] MXFP4, 2 threads (busy machine): 4 tokens 1.8–3.4
    /// ms against 3.8–4.0 for the tile; at 6 and 8 tokens (two passes) the two were within the noise of each other.
    /// </summary>
    private const int OneScaleSmallBatchTokens = 4;

    private static int SmallBatchLimit(GgmlType type) => LegacyQuantKernels.Handles(type) ? OneScaleSmallBatchTokens : SmallBatchTokens;

    private static bool UsesSmallBatch(GgmlType type, int tokens, CpuIsa isa, Int8Path int8) =>
        tokens > 1 && tokens <= SmallBatchLimit(type) && isa >= CpuIsa.Avx2 && !GgmlTypeInfo.IsRepacked(type)
        && (type == GgmlType.Q4_0 ? Int8Paths.Resolve(int8, type, prefill: false) is Int8Path.AvxVnni256 or Int8Path.Avx2Maddubs
            : UsesQ8K(type, isa) || (UsesInt8(type) && Int8Paths.Resolve(int8, type, prefill: false) >= Int8Path.Avx2Maddubs));

    /// <summary>
    /// Bytes of weight rows that <see cref="DecodePerToken"/> passes over for every token before moving on: they stay in
    /// L1, so the rows are read from memory once whatever the token count.
    /// </summary>
    private const int PerTokenChunkBytes = 16 << 10;

    private const int PrefillRowsPerItem = 16;

    /// <summary>Tokens whose quantized activations stay in L2 while every unpacked row of a work item passes over them.</summary>
    private const int PrefillTokenChunk = 64;
    private const int FloatChunkBytes = 256 << 10;

    public static bool UsesInt8(GgmlType type) =>
        type is GgmlType.Q8_0 or GgmlType.Q4_0 or GgmlType.Q4_0x8 or GgmlType.Q8_0x8 or GgmlType.Q5_0x8 or GgmlType.Q5_1x8 or GgmlType.IQ4_NLx8 || Nvfp4Kernels.Handles(type) || LegacyQuantKernels.Handles(type);

    /// <summary>
    /// K-quant types multiplied with Q8_K activations (256-value blocks), as llama.cpp does. The portable path has no
    /// widening byte dot, so there its rows are decoded to floats for the Vector&lt;T&gt; kernels instead, which is faster
    /// than the scalar integer loops.
    /// </summary>
    public static bool UsesQ8K(GgmlType type, CpuIsa isa) =>
        (type is GgmlType.Q2_K or GgmlType.Q3_K or GgmlType.Q4_K or GgmlType.Q4_Kx8 or GgmlType.Q5_K or GgmlType.Q5_Kx8 or GgmlType.Q6_K or GgmlType.Q6_Kx8 || IqKernels.Handles(type) || IqSubBlockKernels.Handles(type))
        && isa != CpuIsa.Portable;

    /// <summary>K-quants whose 32-value sub-blocks have a scale and a min each: prefill runs them on the int8 tile.</summary>
    private static bool IsScaleMinKQuant(GgmlType type) => type is GgmlType.Q4_K or GgmlType.Q5_K or GgmlType.Q4_Kx8 or GgmlType.Q5_Kx8;

    /// <summary>
    /// A repacked Q4_K, Q5_K, Q5_0, Q5_1 or IQ4_NL matrix takes its own kernels up to this many tokens (decode, a few sequences, a short
    /// draft); beyond, its rows are put back in the stored layout a group at a time for the int8 prefill tile, which
    /// unpacks a row once for all its tokens.
    /// </summary>
    private const int RepackedDecodeMaxTokens = 4;

    /// <summary>Repacked types whose prefill runs on the int8 tile from rows put back in the stored layout.</summary>
    private static bool RepackedForDecodeOnly(GgmlType type) => type is GgmlType.Q4_Kx8 or GgmlType.Q5_Kx8 or GgmlType.Q5_0x8 or GgmlType.Q5_1x8 or GgmlType.IQ4_NLx8;

    /// <summary>
    /// Whether the repacked kernels multiply: Q4_0, Q8_0 and Q6_K repacked matrices at every token count (see the note at
    /// <see cref="RepackedRowsPerItem"/>; Q6_K's kernel in passes of four tokens over a group held in cache beat the stored
    /// layout's tile too: [4096 × 4096], 2 threads, 5 / 64 / 512 tokens 2.6× / 1.6× / 1.8×), Q4_K, Q5_K, Q5_0, Q5_1 and IQ4_NL up to
    /// <see cref="RepackedDecodeMaxTokens"/>.
    /// </summary>
    private static bool UsesRepackedKernels(GgmlType type, int tokens) =>
        GgmlTypeInfo.IsRepacked(type) && (!RepackedForDecodeOnly(type) || tokens <= RepackedDecodeMaxTokens);

    /// <summary>Q8_K types whose prefill runs on the int8 tile, with one scale (and offset) per 32 values.</summary>
    private static bool TilesQ8KBlocks(GgmlType type) => IsScaleMinKQuant(type) || IqSubBlockKernels.Handles(type);

    /// <summary>
    /// Float prefill on AVX-512 goes through <see cref="FloatPanelGemm"/> once there are enough tokens to pay for
    /// transposing each panel; a few tokens (a short chat turn) stay with the dot tile.
    /// </summary>
    private static bool UsesFloatPanels(GgmlType type, int tokens, CpuIsa isa) =>
        tokens >= FloatPanelMinTokens && isa == CpuIsa.Avx512 && IsFloatLike(type);

    private const int FloatPanelMinTokens = 16;

    /// <summary>Types with a kernel that widens them in registers; any other type is decoded row by row first.</summary>
    private static bool IsFloatLike(GgmlType type) => type is GgmlType.F32 or GgmlType.F16 or GgmlType.BF16;

    /// <summary>
    /// y = x · Wᵢᵀ for each weight, the results one after another in y ([tokens, outᵢ] each). Weights of one type and
    /// width share one preparation of x (quantized once) and one parallel job over all their rows.
    /// </summary>
    /// <param name="activations">Operation-wide buffer for the quantized activations.</param>
    /// <param name="scratch">One buffer per pool thread.</param>
    public static void Run(WorkerPool pool, CpuIsa isa, Int8Path int8, ReadOnlySpan<TensorView> weights, float* x, float* y, int tokens,
        ref NativeBuffer activations, NativeBuffer* scratch)
    {
        if (!ShareOnePreparation(weights))
        {
            foreach (var weight in weights)
            {
                Run(pool, isa, int8, [weight], x, y, tokens, ref activations, scratch);
                y += (long)tokens * weight.Shape[0];
            }
            return;
        }
        var jobs = stackalloc Job[weights.Length];
        var firstItems = stackalloc int[weights.Length + 1];
        jobs[0] = Prepare(pool, isa, int8, weights[0], x, y, tokens, ref activations, scratch);
        for (int i = 0; i < weights.Length; i++)
        {
            if (i > 0)
            {
                y += (long)tokens * jobs[i - 1].Outputs;
                jobs[i] = jobs[0];
                jobs[i].Weights = weights[i].Data;
                jobs[i].Outputs = checked((int)weights[i].Shape[0]);
                jobs[i].Y = y;
                jobs[i].RowsPerItem = RowsPerItem(jobs[i].Type, jobs[i].Outputs, tokens, isa, pool.Threads, jobs[i].SmallBatch);
                if (weights[i].Type == GgmlType.F8_E4M3) jobs[i].Fp8Scales = Fp8Kernels.Scales.Of(weights[i]);
            }
            firstItems[i + 1] = firstItems[i] + (jobs[i].Outputs + jobs[i].RowsPerItem - 1) / jobs[i].RowsPerItem;
        }
        var set = new JobSet { Jobs = jobs, FirstItems = firstItems };
        pool.For(firstItems[weights.Length], &RunSetItem, &set);
    }

    /// <summary>Jobs of one shared preparation live on the stack: a layer's projections, not an unbounded list.</summary>
    private const int MaxSharedWeights = 16;

    private static bool ShareOnePreparation(ReadOnlySpan<TensorView> weights)
    {
        if (weights.Length > MaxSharedWeights) return false;
        foreach (var weight in weights)
            if (weight.Type != weights[0].Type || weight.Shape[1] != weights[0].Shape[1]) return false;
        return true;
    }

    /// <summary>Several <see cref="Job"/>s run as one: work items numbered across them, job i's from FirstItems[i].</summary>
    private struct JobSet
    {
        public Job* Jobs;
        public int* FirstItems;
    }

    private static void RunSetItem(void* context, int item, int thread)
    {
        var set = (JobSet*)context;
        int i = 0;
        while (item >= set->FirstItems[i + 1]) i++;
        RunItem(set->Jobs + i, item - set->FirstItems[i], thread);
    }

    /// <summary>A job for one weight: x prepared for its type (quantized, rounded or pre-scaled) and every thread's scratch sized.</summary>
    private static Job Prepare(WorkerPool pool, CpuIsa isa, Int8Path int8, TensorView weight, float* x, float* y, int tokens,
        ref NativeBuffer activations, NativeBuffer* scratch)
    {
        int outputs = checked((int)weight.Shape[0]);
        int inputs = checked((int)weight.Shape[1]);
        bool smallBatch = UsesSmallBatch(weight.Type, tokens, isa, int8);
        var job = new Job
        {
            Isa = isa, Int8 = Int8Paths.Resolve(int8, weight.Type, tokens > 1 && !smallBatch), SmallBatch = smallBatch,
            Type = weight.Type, Weights = weight.Data, RowBytes = GgmlTypeInfo.RowByteSize(weight.Type, inputs),
            Outputs = outputs, Inputs = inputs, Tokens = tokens, X = x, Y = y, Scratch = scratch,
        };
        bool repacked = UsesRepackedKernels(weight.Type, tokens);
        bool tiled = tokens > 1 && isa >= CpuIsa.Avx2 && !smallBatch && !repacked;
        bool int8Simd = job.Int8 >= Int8Path.Avx2Maddubs;
        if (weight.Type == GgmlType.F8_E4M3) job.Fp8Scales = Fp8Kernels.Scales.Of(weight);
        // Prefill treats Q4_K's and Q5_K's 32-value sub-blocks as int8 blocks with a scale and an offset each, for the int8 tile.
        bool scaleMinTiled = TilesQ8KBlocks(weight.Type) && tiled;
        if (UsesInt8(weight.Type) || scaleMinTiled)
        {
            int blocks = inputs / Int8Kernels.Block;
            job.Groups = (blocks + Int8Kernels.GroupBlocks - 1) / Int8Kernels.GroupBlocks;
            job.ActRowBlocks = job.Groups * Int8Kernels.GroupBlocks;
            job.ActRowBytes = job.Groups * Int8Kernels.GroupBytes;
            QuantizeActivations(pool, ref job, ref activations,
                Nvfp4Kernels.Handles(weight.Type) || (repacked && !tiled) ? ActivationLayout.Natural
                : !int8Simd ? ActivationLayout.Natural
                : tiled ? ActivationLayout.Grouped
                : weight.Type == GgmlType.Q4_0 || LegacyQuantKernels.Handles(weight.Type) ? ActivationLayout.NibblePairs : ActivationLayout.Natural);
            if (tiled && Nvfp4Kernels.Handles(weight.Type)) EnsureScratch(scratch, pool.Threads, Nvfp4Kernels.ScratchBytes(inputs));
            else if (tiled && int8Simd)
                EnsureScratch(scratch, pool.Threads, TileScratchBytes(job.ActRowBytes, job.ActRowBlocks, tokens)
                    + (RepackedForDecodeOnly(weight.Type) ? Int8Repack.Rows * job.RowBytes : 0));
        }
        else if (UsesQ8K(weight.Type, isa))
        {
            QuantizeQ8K(pool, ref job, ref activations, tiled);
            if (tiled) EnsureScratch(scratch, pool.Threads, PrefillRowsPerItem * KQuantKernels.UnpackedBytes(inputs));
        }
        else if (!IsFloatLike(weight.Type))
            EnsureScratch(scratch, pool.Threads, 4L * inputs * sizeof(float));
        else if (UsesFloatPanels(weight.Type, tokens, isa))
            EnsureScratch(scratch, pool.Threads, (FloatPanelGemm.PanelFloats(inputs) + inputs) * sizeof(float));
        else if (tiled && weight.Type != GgmlType.F32)
            EnsureScratch(scratch, pool.Threads, (long)PrefillRowsPerItem * inputs * sizeof(float));

        if (weight.Type == GgmlType.BF16 && isa != CpuIsa.Scalar)
            RoundToBf16(ref job, ref activations, compact: tokens == 1 && isa >= CpuIsa.Avx2);
        else if (weight.Type == GgmlType.F16 && isa != CpuIsa.Scalar)
            RoundToF16(ref job, ref activations, unbiasedDecode: !tiled);
        job.RowsPerItem = RowsPerItem(weight.Type, outputs, tokens, isa, pool.Threads, smallBatch);
        return job;
    }

    /// <summary>
    /// Prefill: enough items that a stalled thread's share can be taken over. Decode: one contiguous share of the
    /// rows per thread, so each streams one long range; 64-row items claimed in turn interleaved the two threads'
    /// reads and left DRAM 10-20% short (200 MB F16 GEMV: 58 → 69 GB/s; Q4_0: 43 → 51).
    /// </summary>
    private static int RowsPerItem(GgmlType type, int outputs, int tokens, CpuIsa isa, int threads, bool smallBatch) =>
        UsesFloatPanels(type, tokens, isa) ? FloatPanelGemm.PanelRows
        : UsesRepackedKernels(type, tokens) ? RepackedRowsPerItem(outputs, tokens, threads)
        : tokens > 1 && !smallBatch ? PrefillRowsPerItem : Math.Max(4, (outputs + threads - 1) / threads);

    // A repacked matrix goes through its own kernels at every token count, never the stored layout's tile: a token then
    // meets the same arithmetic whatever else shares its batch, so batched logits equal a sequence's logits alone bit for
    // bit. (Sending Q8_0 at 64 tokens or more to the stored tile was 10-15% faster in the kernel at 128-512 tokens, and
    // broke that equality: a glm4_moe Q8_0 mixed batch moved 1.2e-2 from its sequences alone.)

    /// <summary>
    /// Per-thread scratch of <see cref="Int8Tiled"/>: a work item's unpacked rows, their scales and offsets, and [tokens, 4]
    /// corrections (then, for a matrix repacked for decode only, a group of eight rows in the stored layout).
    /// </summary>
    private static long TileScratchBytes(int actRowBytes, int actRowBlocks, int tokens) =>
        (long)PrefillRowsPerItem * (actRowBytes + 2 * actRowBlocks * sizeof(float)) + 4L * tokens * sizeof(float);

    /// <summary>Whole groups of <see cref="Int8Repack.Rows"/>: one share per thread up to a small batch, as decode has.</summary>
    private static int RepackedRowsPerItem(int outputs, int tokens, int threads) =>
        tokens > SmallBatchTokens ? PrefillRowsPerItem
        : (Math.Max(Int8Repack.Rows, (outputs + threads - 1) / threads) + Int8Repack.Rows - 1) / Int8Repack.Rows * Int8Repack.Rows;

    /// <summary>
    /// F16 weights meet activations rounded to F16, as in llama.cpp (whose vec_dot_type for F16 is F16), kept as
    /// floats; for the decode dot also times 2¹⁰⁰ (see <see cref="F16UnbiasedLoad"/>) unless an activation rounded to
    /// infinity. The scalar reference rounds element by element.
    /// </summary>
    private static void RoundToF16(ref Job job, ref NativeBuffer activations, bool unbiasedDecode)
    {
        int count = checked(job.Tokens * job.Inputs);
        activations.Ensure(2L * count * sizeof(float));
        var rounded = new Span<float>(activations.Pointer, count);
        var second = new Span<float>(activations.Pointer + (long)count * sizeof(float), count);
        var halves = System.Runtime.InteropServices.MemoryMarshal.Cast<float, Half>(second)[..count];
        TensorPrimitives.ConvertToHalf(new ReadOnlySpan<float>(job.X, count), halves);
        TensorPrimitives.ConvertToSingle(halves, rounded);
        job.X = (float*)activations.Pointer;
        if (!unbiasedDecode || !float.IsFinite(TensorPrimitives.Sum(rounded))) return;
        TensorPrimitives.Multiply(rounded, F16UnbiasedLoad.ActivationScale, second);
        job.ScaledX = (float*)(activations.Pointer + (long)count * sizeof(float));
    }

    /// <summary>
    /// BF16 weights meet activations rounded to BF16, as in llama.cpp (whose vec_dot_type for BF16 is BF16): stored
    /// as BF16 for the decode dot, whose activation reads they halve, or as the rounded floats for the other kernels.
    /// The scalar reference rounds element by element.
    /// </summary>
    private static void RoundToBf16(ref Job job, ref NativeBuffer activations, bool compact)
    {
        int count = checked(job.Tokens * job.Inputs);
        activations.Ensure((long)count * (compact ? sizeof(ushort) : sizeof(float)));
        var x = new ReadOnlySpan<float>(job.X, count);
        if (compact)
        {
            job.Bf16X = (ushort*)activations.Pointer;
            Bf16.Encode(x, new Span<ushort>(job.Bf16X, count));
            return;
        }
        float* rounded = (float*)activations.Pointer;
        Bf16.Round(x, new Span<float>(rounded, count));
        job.X = rounded;
    }

    private static void EnsureScratch(NativeBuffer* scratch, int threads, long bytes)
    {
        for (int i = 0; i < threads; i++) scratch[i].Ensure(bytes);
    }

    private static void QuantizeActivations(WorkerPool pool, ref Job job, ref NativeBuffer activations, ActivationLayout layout)
    {
        long codeBytes = (long)job.Tokens * job.ActRowBytes;
        long floats = (long)job.Tokens * job.ActRowBlocks;
        activations.Ensure(codeBytes + 2 * floats * sizeof(float));
        job.Codes = (sbyte*)activations.Pointer;
        job.Scales = (float*)(activations.Pointer + codeBytes);
        job.Sums = job.Scales + floats;
        job.Layout = layout;
        if (job.ActRowBlocks * Int8Kernels.Block != job.Inputs)
            new Span<byte>(activations.Pointer, checked((int)(codeBytes + 2 * floats * sizeof(float)))).Clear();
        fixed (Job* context = &job)
        {
            if (job.Tokens < QuantizeTokensPerItem) QuantizeTokens(context, 0, 0);
            else pool.For((job.Tokens + QuantizeTokensPerItem - 1) / QuantizeTokensPerItem, &QuantizeTokens, context);
        }
    }

    /// <summary>Prefill quantizes its activations on every thread: done by the caller alone it was a serial step.</summary>
    private const int QuantizeTokensPerItem = 16;

    private static void QuantizeTokens(void* context, int item, int thread)
    {
        var job = (Job*)context;
        int end = Math.Min(job->Tokens, (item + 1) * QuantizeTokensPerItem);
        for (int t = item * QuantizeTokensPerItem; t < end; t++)
        {
            float* xt = job->X + (long)t * job->Inputs;
            sbyte* q = job->Codes + (long)t * job->ActRowBytes;
            float* scales = job->Scales + (long)t * job->ActRowBlocks, sums = job->Sums + (long)t * job->ActRowBlocks;
            if (TilesQ8KBlocks(job->Type)) KQuantKernels.QuantizeActivationsGrouped(xt, job->Inputs, q, scales, sums);
            else if (job->Isa >= CpuIsa.Avx2) Int8Kernels.QuantizeActivations(xt, job->Inputs, q, scales, sums, job->Layout, LegacyQuantKernels.UsesHalfSums(GgmlTypeInfo.StoredType(job->Type)));
            else ScalarKernels.QuantizeActivations(xt, job->Inputs, q, scales, sums, LegacyQuantKernels.UsesHalfSums(GgmlTypeInfo.StoredType(job->Type)));
        }
    }

    private static void QuantizeQ8K(WorkerPool pool, ref Job job, ref NativeBuffer activations, bool tiled)
    {
        int n = job.Inputs;
        long codeBytes = (long)job.Tokens * n;
        long superBlocks = (long)job.Tokens * (n / ScalarKQuantKernels.SuperBlock);
        long groups = (long)job.Tokens * (n / ScalarKQuantKernels.Group);
        activations.Ensure(codeBytes + superBlocks * sizeof(float) + groups * (sizeof(float) + sizeof(short)));
        job.Codes = (sbyte*)activations.Pointer;
        job.Scales = (float*)(activations.Pointer + codeBytes);
        job.ScaledGroupSums = job.Scales + superBlocks;
        job.GroupSums = (short*)(job.ScaledGroupSums + groups);
        job.ScaleGroupSums = tiled;
        fixed (Job* context = &job)
        {
            if (job.Tokens < QuantizeTokensPerItem) QuantizeQ8KTokens(context, 0, 0);
            else pool.For((job.Tokens + QuantizeTokensPerItem - 1) / QuantizeTokensPerItem, &QuantizeQ8KTokens, context);
        }
    }

    private static void QuantizeQ8KTokens(void* context, int item, int thread)
    {
        var job = (Job*)context;
        int n = job->Inputs, rowSuperBlocks = n / ScalarKQuantKernels.SuperBlock, rowGroups = n / ScalarKQuantKernels.Group;
        int end = Math.Min(job->Tokens, (item + 1) * QuantizeTokensPerItem);
        for (int t = item * QuantizeTokensPerItem; t < end; t++)
        {
            float* d = job->Scales + (long)t * rowSuperBlocks;
            short* sums = job->GroupSums + (long)t * rowGroups;
            if (job->Isa >= CpuIsa.Avx2) KQuantKernels.QuantizeActivations(job->X + (long)t * n, n, job->Codes + (long)t * n, d, sums);
            else ScalarKQuantKernels.QuantizeActivations(job->X + (long)t * n, n, job->Codes + (long)t * n, d, sums);
            if (job->ScaleGroupSums) KQuantKernels.ScaleGroupSums(sums, d, rowGroups, job->ScaledGroupSums + (long)t * rowGroups);
        }
    }

    private static void RunItem(void* context, int item, int thread)
    {
        var job = (Job*)context;
        int first = item * job->RowsPerItem;
        int end = Math.Min(job->Outputs, first + job->RowsPerItem);
        if (Nvfp4Kernels.Handles(job->Type))
        {
            if (job->SmallBatch) DecodePerToken(job, first, end, thread);
            else Nvfp4Rows(job, first, end, thread);
        }
        else if (UsesRepackedKernels(job->Type, job->Tokens)) RepackedRows(job, first, end);
        else if (UsesInt8(job->Type))
        {
            if (job->Int8 == Int8Path.Scalar) Int8Reference(job, first, end);
            else if (job->Int8 == Int8Path.Portable) Int8Portable(job, first, end);
            else if (job->Tokens == 1) Int8Decode(job, first, end);
            else if (job->SmallBatch && (job->Type == GgmlType.Q4_0 || LegacyQuantKernels.Handles(job->Type))) RowsSmallBatch(job, first, end);
            else if (job->SmallBatch) DecodePerToken(job, first, end, thread);
            else Int8Tiled(job, first, end, job->Scratch + thread);
        }
        else if (job->Type == GgmlType.F8_E4M3)
            Fp8Kernels.Rows(job->Isa, job->Weights, job->Fp8Scales, job->Inputs, job->Outputs, first, end, job->X, job->Tokens, job->Y, job->Scratch + thread);
        else if (UsesQ8K(job->Type, job->Isa))
        {
            if (job->Isa == CpuIsa.Scalar) KQuantReference(job, first, end);
            else if (job->Tokens == 1) KQuantDecode(job, first, end);
            else if (job->SmallBatch) DecodePerToken(job, first, end, thread);
            else if (TilesQ8KBlocks(job->Type)) Int8Tiled(job, first, end, job->Scratch + thread);
            else KQuantTiled(job, first, end, job->Scratch + thread);
        }
        else if (!IsFloatLike(job->Type)) DecodedRows(job, first, end, job->Scratch + thread);
        else
        {
            if (job->Isa == CpuIsa.Scalar) FloatReference(job, first, end);
            else if (job->Tokens == 1 || job->Isa == CpuIsa.Portable)
                for (int t = 0; t < job->Tokens; t++) FloatRows(job, first, end, t);
            else if (UsesFloatPanels(job->Type, job->Tokens, job->Isa)) FloatPanel(job, first, end, job->Scratch + thread);
            else FloatTiled(job, first, end, job->Scratch + thread);
        }
    }

    private static void FloatReference(Job* job, int first, int end)
    {
        for (int o = first; o < end; o++)
            for (int t = 0; t < job->Tokens; t++)
                job->Y[(long)t * job->Outputs + o] = ScalarKernels.DotFloatRow(job->Type, job->Weights + o * job->RowBytes, job->X + (long)t * job->Inputs, job->Inputs);
    }

    /// <summary>Rows [first, end) against token t, the weights widened in registers.</summary>
    private static void FloatRows(Job* job, int first, int end, int t)
    {
        byte* w = job->Weights + first * job->RowBytes;
        int rows = end - first;
        float* x = job->X + (long)t * job->Inputs;
        float* y = job->Y + (long)t * job->Outputs + first;
        switch (job->Type)
        {
            case GgmlType.F32: DotRows<F32Load>(job->Isa, w, job->RowBytes, rows, x, job->Inputs, y); break;
            case GgmlType.F16 when job->ScaledX is not null:
                DotRows<F16UnbiasedLoad>(job->Isa, w, job->RowBytes, rows, job->ScaledX + (long)t * job->Inputs, job->Inputs, y);
                TensorPrimitives.Multiply(new ReadOnlySpan<float>(y, rows), F16UnbiasedLoad.ResultScale, new Span<float>(y, rows));
                break;
            case GgmlType.F16: DotRows<F16Load>(job->Isa, w, job->RowBytes, rows, x, job->Inputs, y); break;
            case GgmlType.BF16 when job->Bf16X is not null:
                if (job->Isa == CpuIsa.Avx512) FloatKernels<Lanes512>.DotRows<Bf16Load, Bf16Load>(w, job->RowBytes, rows, (byte*)job->Bf16X, job->Inputs, y);
                else FloatKernels<Lanes256>.DotRows<Bf16Load, Bf16Load>(w, job->RowBytes, rows, (byte*)job->Bf16X, job->Inputs, y);
                break;
            default: DotRows<Bf16Load>(job->Isa, w, job->RowBytes, rows, x, job->Inputs, y); break;
        }
    }

    private static void DotRows<TLoad>(CpuIsa isa, byte* w, long rowBytes, int rows, float* x, int n, float* y) where TLoad : IFloatLoad
    {
        if (isa == CpuIsa.Avx512) FloatKernels<Lanes512>.DotRows<TLoad>(w, rowBytes, rows, x, n, y);
        else if (isa == CpuIsa.Avx2) FloatKernels<Lanes256>.DotRows<TLoad>(w, rowBytes, rows, x, n, y);
        else FloatKernelsPortable.DotRows<TLoad>(w, rowBytes, rows, x, n, y);
    }

    private static void FloatTiled(Job* job, int first, int end, NativeBuffer* scratch)
    {
        int n = job->Inputs, rows = end - first;
        float* w;
        if (job->Type == GgmlType.F32) w = (float*)(job->Weights + first * job->RowBytes);
        else
        {
            w = (float*)scratch->Pointer;
            for (int r = 0; r < rows; r++)
            {
                byte* src = job->Weights + (first + r) * job->RowBytes;
                if (job->Type == GgmlType.F16) Widen<F16Load>(job->Isa, src, w + r * n, n);
                else Widen<Bf16Load>(job->Isa, src, w + r * n, n);
            }
        }
        // fp32 activations are four times the int8 codes: keep a chunk of them within a quarter of L2.
        int chunk = Math.Clamp(FloatChunkBytes / (n * sizeof(float)) / 4 * 4, 4, PrefillTokenChunk);
        for (int t = 0; t < job->Tokens; t += chunk)
        {
            int tokens = Math.Min(chunk, job->Tokens - t);
            float* x = job->X + (long)t * n;
            float* y = job->Y + (long)t * job->Outputs + first;
            for (int o = 0; o < rows; o += 4)
            {
                if (job->Isa == CpuIsa.Avx512) FloatKernels<Lanes512>.DotTile(w + o * n, n, Math.Min(4, rows - o), x, n, tokens, n, y + o, job->Outputs);
                else FloatKernels<Lanes256>.DotTile(w + o * n, n, Math.Min(4, rows - o), x, n, tokens, n, y + o, job->Outputs);
            }
        }
    }

    private static void FloatPanel(Job* job, int first, int end, NativeBuffer* scratch)
    {
        int n = job->Inputs, rows = end - first;
        float* panel = (float*)scratch->Pointer;
        float* row = panel + FloatPanelGemm.PanelFloats(n);
        for (int r = 0; r < FloatPanelGemm.PanelRows; r++)
        {
            if (r >= rows) new Span<float>(row, n).Clear();
            else
            {
                byte* src = job->Weights + (first + r) * job->RowBytes;
                switch (job->Type)
                {
                    case GgmlType.F32: new ReadOnlySpan<float>(src, n).CopyTo(new Span<float>(row, n)); break;
                    case GgmlType.F16: Widen<F16Load>(job->Isa, src, row, n); break;
                    default: Widen<Bf16Load>(job->Isa, src, row, n); break;
                }
            }
            for (int k = 0; k < n; k++) panel[(long)k * FloatPanelGemm.PanelRows + r] = row[k];
        }
        FloatPanelGemm.Multiply(panel, rows, n, job->X, n, job->Tokens, job->Y + first, job->Outputs);
    }

    private static void Widen<TLoad>(CpuIsa isa, byte* src, float* dst, int n) where TLoad : IFloatLoad
    {
        if (isa == CpuIsa.Avx512) FloatKernels<Lanes512>.Widen<TLoad>(src, dst, n);
        else FloatKernels<Lanes256>.Widen<TLoad>(src, dst, n);
    }

    private static void KQuantReference(Job* job, int first, int end)
    {
        int n = job->Inputs, superBlocks = n / ScalarKQuantKernels.SuperBlock, groups = n / ScalarKQuantKernels.Group;
        for (int o = first; o < end; o++)
            for (int t = 0; t < job->Tokens; t++)
            {
                byte* w = job->Weights + o * job->RowBytes;
                sbyte* a = job->Codes + (long)t * n;
                float* da = job->Scales + (long)t * superBlocks;
                short* sums = job->GroupSums + (long)t * groups;
                job->Y[(long)t * job->Outputs + o] = IqKernels.Handles(job->Type) ? ScalarIqKernels.Dot(job->Type, w, a, da, superBlocks) : job->Type switch
                {
                    GgmlType.Q2_K => ScalarLowBitKQuantKernels.DotQ2_K(w, a, da, sums, superBlocks),
                    GgmlType.Q3_K => ScalarLowBitKQuantKernels.DotQ3_K(w, a, da, superBlocks),
                    GgmlType.Q4_K => ScalarKQuantKernels.DotQ4_K(w, a, da, sums, superBlocks),
                    GgmlType.Q5_K => ScalarKQuantKernels.DotQ5_K(w, a, da, sums, superBlocks),
                    var type when IqSubBlockKernels.Handles(type) => ScalarIqSubBlockKernels.Dot(type, w, a, da, superBlocks),
                    _ => ScalarKQuantKernels.DotQ6_K(w, a, da, superBlocks),
                };
            }
    }

    private static void KQuantDecode(Job* job, int first, int end)
    {
        int superBlocks = job->Inputs / ScalarKQuantKernels.SuperBlock;
        for (int o = first; o < end; o++)
        {
            byte* w = job->Weights + o * job->RowBytes;
            job->Y[o] = IqKernels.Handles(job->Type) ? IqKernels.Dot(job->Type, w, job->Codes, job->Scales, superBlocks) : job->Type switch
            {
                GgmlType.Q2_K => LowBitKQuantKernels.DotQ2_K(w, job->Codes, job->Scales, job->GroupSums, superBlocks),
                GgmlType.Q3_K => LowBitKQuantKernels.DotQ3_K(w, job->Codes, job->Scales, job->GroupSums, superBlocks),
                GgmlType.Q4_K => KQuantKernels.DotScaleMin<Q4_KCodes>(w, job->Codes, job->Scales, job->GroupSums, superBlocks),
                GgmlType.Q5_K => KQuantKernels.DotScaleMin<Q5_KCodes>(w, job->Codes, job->Scales, job->GroupSums, superBlocks),
                var type when IqSubBlockKernels.Handles(type) => IqSubBlockKernels.Dot(type, w, job->Codes, job->Scales, superBlocks),
                _ => KQuantKernels.DotQ6_K(w, job->Codes, job->Scales, job->GroupSums, superBlocks),
            };
        }
    }

    private static void KQuantTiled(Job* job, int first, int end, NativeBuffer* scratch)
    {
        int n = job->Inputs, rows = end - first;
        long unpackedBytes = KQuantKernels.UnpackedBytes(n);
        for (int r = 0; r < rows; r++)
        {
            byte* row = job->Weights + (first + r) * job->RowBytes, u = scratch->Pointer + r * unpackedBytes;
            if (job->Type is GgmlType.Q2_K or GgmlType.Q3_K) LowBitKQuantKernels.Unpack(job->Type, row, n, u);
            else if (IqKernels.Handles(job->Type)) IqKernels.Unpack(job->Type, row, n, u);
            else KQuantKernels.Unpack(job->Type == GgmlType.Q6_K, row, n, u);
        }
        int superBlocks = n / ScalarKQuantKernels.SuperBlock, groups = n / ScalarKQuantKernels.Group;
        for (int t = 0; t < job->Tokens; t += PrefillTokenChunk)
        {
            int tokens = Math.Min(PrefillTokenChunk, job->Tokens - t);
            for (int o = 0; o < rows; o += 2)
                KQuantKernels.DotUnpacked(scratch->Pointer + o * unpackedBytes, Math.Min(2, rows - o), n,
                    job->Codes + (long)t * n, job->Scales + (long)t * superBlocks, job->ScaledGroupSums + (long)t * groups, tokens,
                    job->Y + (long)t * job->Outputs + first + o, job->Outputs, wide: job->Isa == CpuIsa.Avx512);
        }
    }

    /// <summary>Types without their own kernel (K-quants on the portable path): each row decoded to fp32 once, then the float kernels.</summary>
    private static void DecodedRows(Job* job, int first, int end, NativeBuffer* scratch)
    {
        int n = job->Inputs;
        float* w = (float*)scratch->Pointer;
        for (int o = first; o < end; o += 4)
        {
            int rows = Math.Min(4, end - o);
            for (int r = 0; r < rows; r++)
                TensorCodec.DequantizeRow(job->Type, job->Weights + (o + r) * job->RowBytes, new Span<float>(w + r * n, n));
            float* y = job->Y + o;
            if (job->Isa == CpuIsa.Avx512) FloatKernels<Lanes512>.DotTile(w, n, rows, job->X, n, job->Tokens, n, y, job->Outputs);
            else if (job->Isa == CpuIsa.Avx2) FloatKernels<Lanes256>.DotTile(w, n, rows, job->X, n, job->Tokens, n, y, job->Outputs);
            else if (job->Isa == CpuIsa.Portable) FloatKernelsPortable.DotTile(w, n, rows, job->X, n, job->Tokens, n, y, job->Outputs);
            else
                for (int t = 0; t < job->Tokens; t++)
                    for (int r = 0; r < rows; r++)
                        y[(long)t * job->Outputs + r] = ScalarKernels.DotFloatRow(GgmlType.F32, (byte*)(w + r * n), job->X + (long)t * n, n);
        }
    }

    private static void Int8Reference(Job* job, int first, int end)
    {
        int blocks = job->Inputs / Int8Kernels.Block;
        for (int o = first; o < end; o++)
            for (int t = 0; t < job->Tokens; t++)
                job->Y[(long)t * job->Outputs + o] = LegacyQuantKernels.Handles(job->Type)
                    ? ScalarLegacyKernels.Dot(job->Type, job->Weights + o * job->RowBytes, job->Codes + (long)t * job->ActRowBytes,
                        job->Scales + (long)t * job->ActRowBlocks, job->Sums + (long)t * job->ActRowBlocks, blocks)
                    : ScalarKernels.DotQuantizedRow(job->Type, job->Weights + o * job->RowBytes,
                        job->Codes + (long)t * job->ActRowBytes, job->Scales + (long)t * job->ActRowBlocks, blocks);
    }

    private static void Int8Portable(Job* job, int first, int end)
    {
        int blocks = job->Inputs / Int8Kernels.Block;
        bool q4 = job->Type == GgmlType.Q4_0;
        for (int o = first; o < end; o++)
            for (int t = 0; t < job->Tokens; t++)
                job->Y[(long)t * job->Outputs + o] = LegacyQuantKernels.Handles(job->Type)
                    ? LegacyQuantKernelsPortable.Dot(job->Type, job->Weights + o * job->RowBytes, job->Codes + (long)t * job->ActRowBytes,
                        job->Scales + (long)t * job->ActRowBlocks, job->Sums + (long)t * job->ActRowBlocks, blocks)
                    : Int8KernelsPortable.DotRow(q4, job->Weights + o * job->RowBytes,
                        job->Codes + (long)t * job->ActRowBytes, job->Scales + (long)t * job->ActRowBlocks, blocks);
    }

    private static void Int8Decode(Job* job, int first, int end)
    {
        int blocks = job->Inputs / Int8Kernels.Block;
        bool q8 = job->Type == GgmlType.Q8_0;
        if (LegacyQuantKernels.Handles(job->Type))
        {
            for (int o = first; o < end; o++)
                job->Y[o] = LegacyQuantKernels.Dot(job->Type, job->Int8, job->Weights + o * job->RowBytes, job->Codes, job->Scales, job->Sums, blocks);
            return;
        }
        for (int o = first; o < end; o++)
        {
            byte* w = job->Weights + o * job->RowBytes;
            job->Y[o] = job->Int8 switch
            {
                Int8Path.Avx512BW when q8 => Int8KernelsAvx512.DotQ8_0(w, job->Codes, job->Scales, blocks),
                Int8Path.Avx512BW => Int8KernelsAvx512.DotQ4_0(w, job->Codes, job->Scales, job->Sums, blocks),
                Int8Path.AvxVnni256 when q8 => Int8Kernels.DotQ8_0<VnniDot>(w, job->Codes, job->Scales, job->Sums, blocks),
                Int8Path.AvxVnni256 => Int8Kernels.DotQ4_0<VnniDot>(w, job->Codes, job->Scales, job->Sums, blocks),
                _ when q8 => Int8Kernels.DotQ8_0<SignedDot>(w, job->Codes, job->Scales, job->Sums, blocks),
                _ => Int8Kernels.DotQ4_0<NibbleDot>(w, job->Codes, job->Scales, job->Sums, blocks),
            };
        }
    }

    /// <summary>
    /// A small batch on a type without a many-token decode kernel of its own: the one-token kernel for each token, over
    /// a few rows at a time. The prefill tile instead unpacks every row into scratch first, which for two or three tokens
    /// (an MTP verification step, an expert that a batched decode step routes a few rows to) cost more than the products.
    /// </summary>
    private static void DecodePerToken(Job* job, int first, int end, int thread)
    {
        int chunk = (int)Math.Max(1, PerTokenChunkBytes / job->RowBytes);
        bool q8K = UsesQ8K(job->Type, job->Isa);
        for (int start = first; start < end; start += chunk)
        {
            int stop = Math.Min(end, start + chunk);
            for (int t = 0; t < job->Tokens; t++)
            {
                var token = OneToken(job, t, q8K);
                if (q8K) KQuantDecode(&token, start, stop);
                else if (Nvfp4Kernels.Handles(job->Type)) Nvfp4Rows(&token, start, stop, thread);
                else Int8Decode(&token, start, stop);
            }
        }
    }

    private static void Nvfp4Rows(Job* job, int first, int end, int thread) =>
        Nvfp4Kernels.Rows(job->Isa, job->Weights, job->RowBytes, job->Inputs, job->Outputs, first, end,
            job->Codes, job->Scales, job->ActRowBytes, job->ActRowBlocks, job->Tokens, job->Y, job->Scratch + thread);

    /// <summary>The job of token <paramref name="t"/> alone: its activation row and its row of the output.</summary>
    private static Job OneToken(Job* job, int t, bool q8K)
    {
        var token = *job;
        token.Tokens = 1;
        token.Y += (long)t * job->Outputs;
        if (q8K)
        {
            int n = job->Inputs;
            token.Codes += (long)t * n;
            token.Scales += (long)t * (n / ScalarKQuantKernels.SuperBlock);
            token.GroupSums += (long)t * (n / ScalarKQuantKernels.Group);
        }
        else
        {
            token.Codes += (long)t * job->ActRowBytes;
            token.Scales += (long)t * job->ActRowBlocks;
            token.Sums += (long)t * job->ActRowBlocks;
        }
        return token;
    }

    /// <summary>A small batch of Q4_0 or one-scale block rows: each weight row unpacked once for up to four tokens.</summary>
    private static void RowsSmallBatch(Job* job, int first, int end)
    {
        int blocks = job->Inputs / Int8Kernels.Block;
        for (int o = first; o < end; o++)
        {
            byte* w = job->Weights + o * job->RowBytes;
            for (int t = 0; t < job->Tokens; t += 4)
            {
                sbyte* codes = job->Codes + (long)t * job->ActRowBytes;
                float* scales = job->Scales + (long)t * job->ActRowBlocks, sums = job->Sums + (long)t * job->ActRowBlocks;
                int rows = Math.Min(4, job->Tokens - t);
                float* y = job->Y + (long)t * job->Outputs + o;
                if (job->Type != GgmlType.Q4_0)
                    LegacyQuantKernels.DotRows(job->Type, job->Int8, w, codes, scales, sums, blocks, rows, job->ActRowBytes, job->ActRowBlocks, y, job->Outputs);
                else if (job->Int8 == Int8Path.AvxVnni256)
                    Int8Kernels.DotQ4_0Rows<VnniDot>(w, codes, scales, sums, blocks, rows, job->ActRowBytes, job->ActRowBlocks, y, job->Outputs);
                else Int8Kernels.DotQ4_0Rows<NibbleDot>(w, codes, scales, sums, blocks, rows, job->ActRowBytes, job->ActRowBlocks, y, job->Outputs);
            }
        }
    }

    /// <summary>
    /// Rows [first, end) of a repacked matrix, group by group of eight, four tokens per pass (then two, then one). The
    /// tokens go in chunks whose activations stay in L2 while every group of the item passes over them.
    /// </summary>
    private static void RepackedRows(Job* job, int first, int end)
    {
        int blocks = job->Inputs / GgmlTypeInfo.BlockSize(job->Type);
        long groupBytes = Int8Repack.Rows * job->RowBytes;
        for (int chunk = 0; chunk < job->Tokens; chunk += PrefillTokenChunk)
        {
            int chunkEnd = Math.Min(job->Tokens, chunk + PrefillTokenChunk);
            for (int o = first; o < end; o += Int8Repack.Rows)
            {
                byte* w = job->Weights + o / Int8Repack.Rows * groupBytes;
                int t = chunk;
                for (; t + 4 <= chunkEnd; t += 4) RepackedTile<FourTokens>(job, w, blocks, t, o);
                if (t + 2 <= chunkEnd)
                {
                    RepackedTile<TwoTokens>(job, w, blocks, t, o);
                    t += 2;
                }
                if (t < chunkEnd) RepackedTile<OneToken>(job, w, blocks, t, o);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void RepackedTile<TTile>(Job* job, byte* w, int blocks, int t, int o) where TTile : struct, ITokenTile
    {
        float* y = job->Y + (long)t * job->Outputs + o;
        if (UsesQ8K(job->Type, job->Isa))
        {
            // The Q8_K types (Q4_Kx8, Q5_Kx8, Q6_Kx8) take each token's natural-layout codes, super-block scales and 16-value sums.
            int groups = job->Inputs / ScalarKQuantKernels.Group;
            sbyte* q8k = job->Codes + (long)t * job->Inputs;
            float* da = job->Scales + (long)t * blocks;
            short* groupSums = job->GroupSums + (long)t * groups;
            if (job->Type == GgmlType.Q4_Kx8) RepackedKQuantKernels.DotScaleMin<TTile, Q4_KCodes>(w, blocks, q8k, job->Inputs, da, blocks, groupSums, groups, y, job->Outputs);
            else if (job->Type == GgmlType.Q5_Kx8) RepackedKQuantKernels.DotScaleMin<TTile, Q5_KCodes>(w, blocks, q8k, job->Inputs, da, blocks, groupSums, groups, y, job->Outputs);
            else RepackedQ6KKernels.DotQ6_K<TTile>(w, blocks, q8k, job->Inputs, da, blocks, groupSums, groups, y, job->Outputs);
            return;
        }
        sbyte* codes = job->Codes + (long)t * job->ActRowBytes;
        float* scales = job->Scales + (long)t * job->ActRowBlocks, sums = job->Sums + (long)t * job->ActRowBlocks;
        if (job->Type == GgmlType.Q4_0x8) RepackedInt8Kernels.DotQ4_0<TTile>(w, blocks, codes, job->ActRowBytes, scales, sums, job->ActRowBlocks, y, job->Outputs);
        else if (job->Type == GgmlType.Q5_0x8) RepackedInt8Kernels.DotQ5_0<TTile>(w, blocks, codes, job->ActRowBytes, scales, sums, job->ActRowBlocks, y, job->Outputs);
        else if (job->Type == GgmlType.Q5_1x8) RepackedInt8Kernels.DotQ5_1<TTile>(w, blocks, codes, job->ActRowBytes, scales, sums, job->ActRowBlocks, y, job->Outputs);
        else if (job->Type == GgmlType.IQ4_NLx8) RepackedInt8Kernels.DotIq4Nl<TTile>(w, blocks, codes, job->ActRowBytes, scales, job->ActRowBlocks, y, job->Outputs);
        else RepackedInt8Kernels.DotQ8_0<TTile>(w, blocks, codes, job->ActRowBytes, scales, job->ActRowBlocks, y, job->Outputs);
    }

    private static void Int8Tiled(Job* job, int first, int end, NativeBuffer* scratch)
    {
        int blocks = job->Inputs / Int8Kernels.Block;
        int rowBytes = job->ActRowBytes, rowBlocks = job->ActRowBlocks, rows = end - first;
        byte* u = scratch->Pointer;
        float* scales = (float*)(u + (long)PrefillRowsPerItem * rowBytes);
        float* offsets = scales + PrefillRowsPerItem * rowBlocks;
        float* corrections = offsets + PrefillRowsPerItem * rowBlocks; // [tokens, 4]
        var stored = GgmlTypeInfo.StoredType(job->Type);
        bool legacy = LegacyQuantKernels.Handles(stored);
        bool q4 = job->Type == GgmlType.Q4_0, bw = job->Int8 == Int8Path.Avx512BW && !legacy;
        // Q8_0 stays signed where the dot takes signed codes: vpmaddubsw after moving the sign (AVX-512BW, plain AVX2).
        bool signedQ8 = bw || job->Int8 == Int8Path.Avx2Maddubs;
        // Q4_0, Q4_K and Q5_K unpack to unsigned 4- or 5-bit codes with offsets; Q8_0 to signed or offset bytes by path.
        bool offsetNibbles = q4 || IsScaleMinKQuant(job->Type);
        bool hasOffsets = offsetNibbles || (legacy ? !LegacyQuantKernels.SignedTile(stored, job->Int8) : !signedQ8);
        byte* storedGroup = (byte*)(corrections + 4 * job->Tokens);
        for (int r = 0; r < rows; r++)
        {
            byte* row = job->Weights + (first + r) * job->RowBytes;
            if (RepackedForDecodeOnly(job->Type))
            {
                // Work items are whole groups of eight rows (16 rows, or all of a matrix of fewer).
                if (r % Int8Repack.Rows == 0) Int8Repack.CopyGroupRows(job->Type, job->Weights, job->RowBytes, first + r, job->Inputs, storedGroup);
                row = storedGroup + r % Int8Repack.Rows * job->RowBytes;
            }
            if (legacy) LegacyQuantKernels.Unpack(stored, job->Int8, row, blocks, u + r * rowBytes, scales + r * rowBlocks, offsets + r * rowBlocks);
            else if (job->Type is GgmlType.Q4_K or GgmlType.Q4_Kx8) KQuantKernels.UnpackScaleMinGrouped<Q4_KCodes>(row, blocks / Int8Kernels.GroupBlocks, u + r * rowBytes, scales + r * rowBlocks, offsets + r * rowBlocks);
            else if (job->Type is GgmlType.Q5_K or GgmlType.Q5_Kx8) KQuantKernels.UnpackScaleMinGrouped<Q5_KCodes>(row, blocks / Int8Kernels.GroupBlocks, u + r * rowBytes, scales + r * rowBlocks, offsets + r * rowBlocks);
            else if (IqSubBlockKernels.Handles(job->Type)) IqSubBlockKernels.UnpackGrouped(job->Type, row, blocks / Int8Kernels.GroupBlocks, u + r * rowBytes, scales + r * rowBlocks, offsets + r * rowBlocks, flip: !signedQ8);
            else Int8Kernels.Unpack(q4, signedQ8, row, blocks, u + r * rowBytes, scales + r * rowBlocks, offsets + r * rowBlocks);
        }
        for (int t = 0; t < job->Tokens; t += PrefillTokenChunk)
        {
            int tokens = Math.Min(PrefillTokenChunk, job->Tokens - t);
            for (int o = 0; o < rows; o += 4)
            {
                byte* tile = u + o * rowBytes;
                float* tileScales = scales + o * rowBlocks, y = job->Y + (long)t * job->Outputs + first + o;
                sbyte* a = job->Codes + (long)t * rowBytes;
                float* aScales = job->Scales + (long)t * rowBlocks;
                int tileRows = Math.Min(4, rows - o);
                if (legacy) LegacyQuantKernels.DotTile(stored, job->Int8, tile, tileScales, rowBytes, rowBlocks, tileRows, a, aScales, tokens, job->Groups, y, job->Outputs);
                else if (bw) Int8KernelsAvx512.DotTile(offsetNibbles, tile, tileScales, rowBytes, rowBlocks, tileRows, a, aScales, tokens, job->Groups, y, job->Outputs);
                else if (job->Int8 == Int8Path.AvxVnni256) Int8Kernels.DotTile<VnniDot>(tile, tileScales, rowBytes, rowBlocks, tileRows, a, aScales, tokens, job->Groups, y, job->Outputs);
                // Q5_K's 5-bit codes widen their pair sums every step: a group's eight would overflow 16 bits.
                else if (job->Type is GgmlType.Q5_K or GgmlType.Q5_Kx8) Int8Kernels.DotTile<LegacyQuantKernels.WideNibbleDot>(tile, tileScales, rowBytes, rowBlocks, tileRows, a, aScales, tokens, job->Groups, y, job->Outputs);
                else if (offsetNibbles) Int8Kernels.DotTile<NibbleDot>(tile, tileScales, rowBytes, rowBlocks, tileRows, a, aScales, tokens, job->Groups, y, job->Outputs);
                else Int8Kernels.DotTile<SignedDot>(tile, tileScales, rowBytes, rowBlocks, tileRows, a, aScales, tokens, job->Groups, y, job->Outputs);
            }
        }
        // Σ_b offset·(d_a·Σa) for every row and token: a float product over blocks, not elements (signed Q8_0 has none).
        for (int o = 0; o < rows && hasOffsets; o += 4)
        {
            int tileRows = Math.Min(4, rows - o);
            float* tileOffsets = offsets + o * rowBlocks;
            if (job->Isa == CpuIsa.Avx512) FloatKernels<Lanes512>.DotTile(tileOffsets, rowBlocks, tileRows, job->Sums, rowBlocks, job->Tokens, rowBlocks, corrections, 4);
            else FloatKernels<Lanes256>.DotTile(tileOffsets, rowBlocks, tileRows, job->Sums, rowBlocks, job->Tokens, rowBlocks, corrections, 4);
            for (int t = 0; t < job->Tokens; t++)
                for (int r = 0; r < tileRows; r++) job->Y[(long)t * job->Outputs + first + o + r] -= corrections[t * 4 + r];
        }
    }
}
