using System.Diagnostics;
using GlmSharp.Errors;
using GlmSharp.Inference;
using GlmSharp.Kernels.Cpu;
using GlmSharp.Models;

namespace GlmSharp.Cli.Commands.Bench;

/// <summary>
/// One timed run of GlmSharp with its multi-token-prediction (NextN) layer drafting: the prompt, then --gen tokens of
/// greedy output. The output is the model's own, not fed ids, since a draft is kept only where the model would have
/// written it; the run reports the acceptance rate and the tokens each target step made. Prefill is timed to the first
/// token. llama.cpp has no NextN graph for glm4moe and runs its plain decode of the same prompt.
/// </summary>
internal static class MtpRun
{
    public static EngineResult Run(string path, RunSettings run, int draftTokens)
    {
        if (run.Parallel != 1) throw new GlmException($"--mtp drafts for one sequence; --parallel {run.Parallel} is not supported with it");
        if (run.Gen < 2) throw new GlmException($"--gen {run.Gen}: --mtp times decode after the first token, so it needs at least 2");
        var start = Stopwatch.GetTimestamp();
        using var backend = new CpuBackend(run.Threads);
        using var loaded = ModelLoader.Load(path, backend);
        if (loaded.Model.NextN is null) throw new UnsupportedModelException($"{path}: the model has no multi-token-prediction layer to draft with (--mtp)");
        using var generator = SpeculativeGenerator.WithNextN(loaded, draftTokens, run.Context + draftTokens + 2, run.CacheType);
        double load = Stopwatch.GetElapsedTime(start).TotalSeconds;

        var ids = run.TokenIds(path)[0];
        var warmupStart = Stopwatch.GetTimestamp();
        do Generate(ids[..run.WarmupPrompt], RunSettings.WarmupDecode);
        while (Stopwatch.GetElapsedTime(warmupStart) < RunSettings.MinimumWarmup);
        var (first, total) = Generate(ids[..run.Prompt], run.Gen);
        var stats = generator.Stats;
        return new EngineResult(run.Prompt / first, (run.Gen - 1) / (total - first), load, RunSettings.PeakRssMb())
        {
            MtpAcceptance = stats.AcceptanceRate, TokensPerStep = stats.TokensPerStep,
        };

        // Seconds to the first token and to the last; end-of-text does not stop the run.
        (double First, double Total) Generate(int[] prompt, int tokens)
        {
            var options = new GenerationOptions { MaxTokens = tokens, Sampling = SamplingOptions.Greedy, StopTokenIds = [] };
            var clock = Stopwatch.StartNew();
            double first = 0;
            var stream = generator.GenerateAsync(prompt, options).GetAsyncEnumerator();
            try
            {
                while (stream.MoveNextAsync().AsTask().GetAwaiter().GetResult())
                    if (first == 0 && stream.Current.TokenId is not null) first = clock.Elapsed.TotalSeconds;
            }
            finally
            {
                stream.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }
            return (first, clock.Elapsed.TotalSeconds);
        }
    }
}
