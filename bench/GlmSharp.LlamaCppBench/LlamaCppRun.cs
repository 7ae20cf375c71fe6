using System.Diagnostics;
using GlmSharp.Cli.Commands.Bench;
using GlmSharp.Errors;
using GlmSharp.Kernels;
using LLama;
using LLama.Common;
using LLama.Native;

namespace GlmSharp.LlamaCppBench;

/// <summary>
/// One timed run of llama.cpp (LLamaSharp 0.30.0) with glm bench's <see cref="RunSettings"/>: load, warm up, prefill
/// every sequence's prompt, then decode steps of one row per sequence in one llama_batch (llama-batched-bench's shape).
/// </summary>
internal static class LlamaCppRun
{
    public static EngineResult Run(string path, RunSettings run)
    {
        NativeApi.llama_empty_call();
        var start = Stopwatch.GetTimestamp();
        var parameters = new ModelParams(path)
        {
            // One KV buffer for all sequences (llama-batched-bench -kvu), in which each may use the whole context.
            SeqMax = (uint)run.Parallel,
            KVUnified = true,
            ContextSize = (uint)(run.Parallel * run.Context),
            // All prompts go to one llama_decode; with a unified cache it cuts the batch into consecutive micro-batches,
            // here of one prompt each (so a sequence prefills as a single one always has), or of PrefillChunk tokens of a
            // longer prompt as GlmSharp's steps take it, unless a decode step of one row per sequence is larger: a step
            // must fit one micro-batch.
            BatchSize = (uint)(run.Parallel * run.Prompt),
            UBatchSize = (uint)Math.Max(Math.Min(run.Prompt, RunSettings.PrefillChunk), run.Parallel),
            Threads = run.Threads,
            BatchThreads = run.Threads,
            GpuLayerCount = 0,
            TypeK = (GGMLType)run.CacheType.ToGgmlType(),
            TypeV = (GGMLType)run.CacheType.ToGgmlType(),
        };
        // llama.cpp refuses a quantized V cache without flash attention (its other path reads V transposed).
        if (run.CacheType == KvCacheType.Q8_0) parameters.FlashAttention = true;
        using var weights = LLamaWeights.LoadFromFile(parameters);
        using var context = weights.CreateContext(parameters);
        double load = Stopwatch.GetElapsedTime(start).TotalSeconds;

        var ids = run.TokenIds(path);
        var batch = new LLamaBatch();
        Prefill(context, batch, ids, run.WarmupPrompt);
        for (int i = 0; i < RunSettings.WarmupDecode; i++) DecodeStep(context, batch, ids, run.Prompt + i % run.Gen, run.WarmupPrompt + i);
        context.NativeHandle.MemoryClear(true);

        start = Stopwatch.GetTimestamp();
        Prefill(context, batch, ids, run.Prompt);
        double prefill = run.Parallel * run.Prompt / Stopwatch.GetElapsedTime(start).TotalSeconds;
        var (decode, samples) = run.TimeDecodeRounds(
            () =>
            {
                for (int i = 0; i < run.Gen; i++) DecodeStep(context, batch, ids, run.Prompt + i, run.Prompt + i);
                CheckEverySequenceReached(context, run.Parallel, run.Prompt + run.Gen);
            },
            () =>
            {
                for (int sequence = 0; sequence < run.Parallel; sequence++)
                    context.NativeHandle.MemorySequenceRemove((LLamaSeqId)sequence, run.Prompt, -1);
                CheckEverySequenceReached(context, run.Parallel, run.Prompt);
            });
        return new EngineResult(prefill, decode, load, RunSettings.PeakRssMb()) { DecodeSamplesTokS = samples };
    }

    /// <summary>The first <paramref name="count"/> ids of every sequence; logits for each one's last row, as llama-batched-bench asks.</summary>
    private static void Prefill(LLamaContext context, LLamaBatch batch, int[][] ids, int count)
    {
        batch.Clear();
        for (int sequence = 0; sequence < ids.Length; sequence++)
            for (int i = 0; i < count; i++) batch.Add(ids[sequence][i], i, (LLamaSeqId)sequence, i == count - 1);
        Check(context.Decode(batch));
    }

    /// <summary>One row per sequence: its id at <paramref name="index"/>, at <paramref name="position"/>.</summary>
    private static void DecodeStep(LLamaContext context, LLamaBatch batch, int[][] ids, int index, int position)
    {
        batch.Clear();
        for (int sequence = 0; sequence < ids.Length; sequence++) batch.Add(ids[sequence][index], position, (LLamaSeqId)sequence, true);
        Check(context.Decode(batch));
    }

    /// <summary>A run whose rows went astray (a sequence id beyond n_seq_max, a lost step) would still print a speed; refuse it.</summary>
    private static void CheckEverySequenceReached(LLamaContext context, int parallel, int positions)
    {
        for (int sequence = 0; sequence < parallel; sequence++)
        {
            int last = context.NativeHandle.MemorySequenceMaxPosition((LLamaSeqId)sequence).Value;
            if (last != positions - 1)
                throw new GlmException($"llama.cpp's cache holds positions up to {last} of sequence {sequence}, expected {positions - 1}");
        }
    }

    private static void Check(DecodeResult result)
    {
        if (result != DecodeResult.Ok) throw new GlmException($"llama.cpp decode failed: {result}");
    }
}
