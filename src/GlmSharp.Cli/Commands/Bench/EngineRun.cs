using System.Diagnostics;
using GlmSharp.Errors;
using GlmSharp.Kernels.Cpu;
using GlmSharp.Models;

namespace GlmSharp.Cli.Commands.Bench;

/// <summary>
/// One timed run of GlmSharp: load, warm up, prefill a prompt, decode token by token. llama.cpp's runs follow the same
/// <see cref="RunSettings"/> in bench/GlmSharp.LlamaCppBench.
/// </summary>
internal static class EngineRun
{
    public const string GlmSharp = "glmsharp";

    /// <summary>
    /// GlmSharp's side of --parallel N (N sequences prefilled, then decode steps of N rows) needs the batched engine
    /// API of issue 9; until it is merged, more than one sequence is refused here, before anything runs.
    /// </summary>
    public static void RequireBatchedEngineFor(RunSettings run)
    {
        if (run.Parallel > 1) throw new GlmException("--parallel > 1 needs the batched engine");
    }

    public static EngineResult Run(string path, RunSettings run)
    {
        var start = Stopwatch.GetTimestamp();
        using var backend = new CpuBackend(run.Threads);
        using var loaded = ModelLoader.Load(path, backend);
        var model = loaded.Model;
        using var session = model.CreateSession(run.Context, cacheType: run.CacheType);
        double load = Stopwatch.GetElapsedTime(start).TotalSeconds;

        var ids = run.TokenIds(path)[0];
        var logits = new float[loaded.Config.VocabSize];
        var one = new int[1];
        model.Forward(ids.AsSpan(0, run.WarmupPrompt), session, logits);
        for (int i = 0; i < RunSettings.WarmupDecode; i++)
        {
            one[0] = ids[run.Prompt + i % run.Gen];
            model.Forward(one, session, logits);
        }
        session.Truncate(0);

        start = Stopwatch.GetTimestamp();
        model.Forward(ids.AsSpan(0, run.Prompt), session, logits);
        double prefill = run.Prompt / Stopwatch.GetElapsedTime(start).TotalSeconds;
        start = Stopwatch.GetTimestamp();
        for (int i = 0; i < run.Gen; i++)
        {
            one[0] = ids[run.Prompt + i];
            model.Forward(one, session, logits);
        }
        double decode = run.Gen / Stopwatch.GetElapsedTime(start).TotalSeconds;
        return new EngineResult(prefill, decode, load, RunSettings.PeakRssMb());
    }
}
