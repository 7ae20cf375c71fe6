using System.Diagnostics;
using GlmSharp.Batching;
using GlmSharp.Kernels;
using GlmSharp.Kernels.Cpu;
using GlmSharp.Models;
using GlmSharp.Models.Blocks;

namespace GlmSharp.Cli.Commands.Bench;

/// <summary>
/// One timed run of GlmSharp: load, warm up, prefill every sequence's prompt in one step, then decode steps of one row
/// per sequence (one sequence is llama-bench's shape, several llama-batched-bench's). llama.cpp's runs follow the same
/// <see cref="RunSettings"/> in bench/GlmSharp.LlamaCppBench.
/// </summary>
internal static class EngineRun
{
    public const string GlmSharp = "glmsharp";

    /// <param name="int8Indexer">Cache a DSA model's indexer keys as Q8_0 and score them in int8 (<see cref="CpuBackend.Int8Indexer"/>).</param>
    public static EngineResult Run(string path, RunSettings run, bool int8Indexer = false)
    {
        var start = Stopwatch.GetTimestamp();
        using var backend = new CpuBackend(run.Threads) { Int8Indexer = int8Indexer };
        using var loaded = ModelLoader.Load(path, backend);
        var model = loaded.Model;
        int perSequence = run.Context + CausalLm.DefaultBlockPositions;
        var streamTypes = int8Indexer ? new Dictionary<string, KvCacheType> { [DsaIndexer.KeyStream] = KvCacheType.Q8_0 } : null;
        using var context = model.CreateContext(run.Parallel * perSequence, Math.Max(RunSettings.PrefillChunk, run.Parallel), run.CacheType,
            streamTypes: streamTypes);
        double load = Stopwatch.GetElapsedTime(start).TotalSeconds;

        var ids = run.TokenIds(path);
        var sequences = new int[run.Parallel];
        var batch = new Batch(run.Parallel * run.Prompt);
        var logits = new float[run.Parallel * loaded.Config.VocabSize];

        var warmupStart = Stopwatch.GetTimestamp();
        do
        {
            StartSequences();
            Prefill(run.WarmupPrompt);
            for (int i = 0; i < RunSettings.WarmupDecode; i++) DecodeStep(run.Prompt + i % run.Gen, run.WarmupPrompt + i);
            foreach (int sequence in sequences) context.Cache.Free(sequence);
        }
        while (Stopwatch.GetElapsedTime(warmupStart) < RunSettings.MinimumWarmup);
        StartSequences();

        start = Stopwatch.GetTimestamp();
        Prefill(run.Prompt);
        double prefill = run.Parallel * run.Prompt / Stopwatch.GetElapsedTime(start).TotalSeconds;
        var (decode, samples) = run.TimeDecodeRounds(
            () =>
            {
                for (int i = 0; i < run.Gen; i++) DecodeStep(run.Prompt + i, run.Prompt + i);
            },
            () =>
            {
                foreach (int sequence in sequences) context.Cache.Truncate(sequence, run.Prompt);
            });
        return new EngineResult(prefill, decode, load, RunSettings.PeakRssMb()) { DecodeSamplesTokS = samples };

        void StartSequences()
        {
            for (int s = 0; s < run.Parallel; s++) sequences[s] = context.Cache.CreateSequence();
        }

        void Prefill(int count)
        {
            batch.Clear();
            for (int s = 0; s < run.Parallel; s++) batch.AddSequence(ids[s].AsSpan(0, count), sequences[s], 0);
            model.Decode(batch, context, logits);
        }

        void DecodeStep(int index, int position)
        {
            batch.Clear();
            for (int s = 0; s < run.Parallel; s++) batch.Add(ids[s][index], sequences[s], position, wantsLogits: true);
            model.Decode(batch, context, logits);
        }
    }
}
