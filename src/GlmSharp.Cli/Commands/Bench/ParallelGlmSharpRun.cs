using System.Diagnostics;
using GlmSharp.Batching;
using GlmSharp.Kernels;
using GlmSharp.Kernels.Cpu;
using GlmSharp.Models;

namespace GlmSharp.Cli.Commands.Bench;

/// <summary>
/// llama-batched-bench's shape on GlmSharp: <c>parallel</c> sequences, each with its own prompt, prefilled in one
/// batch; then decode steps of one row per sequence. Rates are aggregates over every sequence.
/// </summary>
internal static class ParallelGlmSharpRun
{
    public static EngineResult Run(string path, int threads, int prompt, int gen, KvCacheType cacheType, int parallel)
    {
        var start = Stopwatch.GetTimestamp();
        using var backend = new CpuBackend(threads);
        using var loaded = ModelLoader.Load(path, backend);
        var model = loaded.Model;
        int positionsPerSequence = prompt + gen + CausalLm.DefaultBlockPositions;
        using var context = model.CreateContext(parallel * positionsPerSequence, Math.Max(CausalLm.DefaultBatchRows, parallel), cacheType);
        double load = Stopwatch.GetElapsedTime(start).TotalSeconds;

        var ids = EngineRun.TokenIds(parallel * (prompt + gen), path);
        var sequences = new int[parallel];
        var batch = new Batch(parallel * prompt);
        var logits = new float[parallel * loaded.Config.VocabSize];

        RunOnce(Math.Min(prompt, 16), Math.Min(gen, 4));
        var (prefill, decode) = RunOnce(prompt, gen);
        return new EngineResult(parallel * prompt / prefill, parallel * gen / decode, load, EngineRun.PeakRssMb());

        (double PrefillSeconds, double DecodeSeconds) RunOnce(int promptLength, int steps)
        {
            for (int s = 0; s < parallel; s++)
            {
                if (context.Cache.Exists(sequences[s]) && sequences[s] >= 0) context.Cache.Free(sequences[s]);
                sequences[s] = context.Cache.CreateSequence();
            }
            batch.Clear();
            for (int s = 0; s < parallel; s++)
                batch.AddSequence(ids.AsSpan(s * (prompt + gen), promptLength), sequences[s], 0);
            var timer = Stopwatch.GetTimestamp();
            model.Decode(batch, context, logits);
            double prefillSeconds = Stopwatch.GetElapsedTime(timer).TotalSeconds;
            timer = Stopwatch.GetTimestamp();
            for (int step = 0; step < steps; step++)
            {
                batch.Clear();
                for (int s = 0; s < parallel; s++)
                    batch.Add(ids[s * (prompt + gen) + prompt + step], sequences[s], promptLength + step, wantsLogits: true);
                model.Decode(batch, context, logits);
            }
            return (prefillSeconds, Stopwatch.GetElapsedTime(timer).TotalSeconds);
        }
    }
}
