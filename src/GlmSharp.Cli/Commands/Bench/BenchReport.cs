using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using GlmSharp.Kernels;

namespace GlmSharp.Cli.Commands.Bench;

/// <summary>
/// Medians (and spread) of the interleaved runs of each engine, printed as a table or as one JSON object. The VM's
/// read bandwidth drifts between phases (37–79 GB/s measured within a day), so each run has the probe taken just
/// before it: a run's share of the roofline is its decode speed against that probe, and the report gives the median
/// of those shares, not one start-up probe against runs made in another phase. With several sequences the speeds are
/// aggregates, and a decode step (which reads the weights once) makes one token per sequence.
/// </summary>
internal sealed class BenchReport(string model, RunSettings run, long decodeBytes, IReadOnlyList<TimedRun> ours, IReadOnlyList<TimedRun>? llama)
{
    internal static EngineResult Medians(IReadOnlyList<TimedRun> runs) => new(
        RunStatistics.Median(runs.Select(r => r.Result.PrefillTokS)), RunStatistics.Median(runs.Select(r => r.Result.DecodeTokS)),
        RunStatistics.Median(runs.Select(r => r.Result.LoadS)), RunStatistics.Median(runs.Select(r => r.Result.PeakRssMb)))
    {
        MtpAcceptance = runs[0].Result.MtpAcceptance is null ? null : RunStatistics.Median(runs.Select(r => r.Result.MtpAcceptance!.Value)),
        TokensPerStep = runs[0].Result.TokensPerStep is null ? null : RunStatistics.Median(runs.Select(r => r.Result.TokensPerStep!.Value)),
        DecodeSamplesTokS = runs[0].Result.DecodeSamplesTokS is null ? null : DecodeSamples(runs),
    };

    /// <summary>The header's note on --decode-repeats: how often each run decodes, and whether the engines' rounds alternated.</summary>
    internal static string RepeatsNote(RunSettings run, bool bothEngines) => run.DecodeRepeats == 1 ? ""
        : $", each decoding {run.DecodeRepeats} times after its one prefill (median)" +
          (bothEngines ? ", the two engines' rounds alternating (both hold their prefilled caches meanwhile)" : "");

    /// <summary>Every decode round's speed where the runs decoded several times after their prefill, else each run's.</summary>
    internal static double[] DecodeSamples(IReadOnlyList<TimedRun> runs) => [.. runs.SelectMany(r => r.Result.DecodeSamplesTokS ?? [r.Result.DecodeTokS])];

    /// <summary>
    /// Median over pairs of decode samples of GlmSharp's speed over llama.cpp's: run i against run i, or round r against
    /// round r where the rounds alternated (<see cref="LockstepPair"/>). The two of a pair are most likely to share a
    /// bandwidth phase, so this moves less with the phases than the ratio of the two medians does.
    /// </summary>
    internal static double PairedDecodeRatio(IReadOnlyList<TimedRun> ours, IReadOnlyList<TimedRun> llama) =>
        RunStatistics.Median(DecodeSamples(ours).Zip(DecodeSamples(llama), (a, b) => a / b));

    /// <summary>Percentiles of one client time over every client of every served run (nearest rank).</summary>
    private sealed record Percentiles(
        [property: JsonPropertyName("p50")] double P50,
        [property: JsonPropertyName("p90")] double P90,
        [property: JsonPropertyName("p99")] double P99);

    private Percentiles? ClientTimes(Func<EngineResult, double[]?> times)
    {
        if (times(ours[0].Result) is null) return null;
        var all = ours.SelectMany(r => times(r.Result)!).Order().ToArray();
        double At(double p) => all[Math.Min(all.Length - 1, (int)Math.Ceiling(p * all.Length) - 1)];
        return new Percentiles(At(0.5), At(0.9), At(0.99));
    }

    private IEnumerable<double> Bandwidths => ours.Concat(llama ?? []).Select(r => r.Bandwidth);

    /// <summary>Decode speed (of all sequences) if every byte of a step were read at the median probed bandwidth.</summary>
    public double RooflineDecode => run.Parallel * RunStatistics.Median(Bandwidths) / decodeBytes;

    /// <summary>Median over runs of decode speed / (sequences × bandwidth probed just before the run / bytes per step).</summary>
    private double RooflineFraction(IReadOnlyList<TimedRun> runs) =>
        RunStatistics.Median(runs.Select(r => r.Result.DecodeTokS * decodeBytes / (run.Parallel * r.Bandwidth)));

    private sealed record Json(
        [property: JsonPropertyName("model")] string Model,
        [property: JsonPropertyName("threads")] int Threads,
        [property: JsonPropertyName("cache_type")] string CacheType,
        [property: JsonPropertyName("parallel")] int Parallel,
        [property: JsonPropertyName("glmsharp")] EngineResult GlmSharp,
        [property: JsonPropertyName("llamacpp")] EngineResult? LlamaCpp,
        [property: JsonPropertyName("ratio_prefill")] double? RatioPrefill,
        [property: JsonPropertyName("ratio_decode")] double? RatioDecode,
        [property: JsonPropertyName("roofline_decode_tok_s")] double RooflineDecodeTokS,
        [property: JsonPropertyName("glmsharp_roofline_fraction")] double GlmSharpRooflineFraction,
        [property: JsonPropertyName("ratio_decode_paired")] double? RatioDecodePaired,
        [property: JsonPropertyName("glmsharp_ttft_ms"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] Percentiles? TimeToFirstTokenMs,
        [property: JsonPropertyName("glmsharp_tpot_ms"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] Percentiles? TimePerOutputTokenMs);

    /// <summary>Median over the interleaved pairs (GlmSharp's run i and the llama.cpp run right after it) of their prefill ratio.</summary>
    private double? PairedPrefillRatio =>
        llama is null ? null : RunStatistics.Median(ours.Zip(llama, (a, b) => a.Result.PrefillTokS / b.Result.PrefillTokS));

    private double? PairedDecode => llama is null ? null : PairedDecodeRatio(ours, llama);

    public string ToJson()
    {
        var a = Medians(ours);
        var b = llama is null ? null : Medians(llama);
        return JsonSerializer.Serialize(new Json(model, run.Threads, run.CacheType.Name(), run.Parallel, a, b, b is null ? null : a.PrefillTokS / b.PrefillTokS,
            b is null ? null : a.DecodeTokS / b.DecodeTokS, RooflineDecode, RooflineFraction(ours), PairedDecode,
            ClientTimes(r => r.TimeToFirstTokenMs), ClientTimes(r => r.TimePerOutputTokenMs)));
    }

    public void Print(TextWriter output)
    {
        var c = CultureInfo.InvariantCulture;
        string sequences = run.Parallel == 1 ? "" : $", {run.Parallel} sequences decoded together (tok/s of all of them)";
        output.WriteLine($"model {model}, {run.Threads} threads, {run.CacheType.Name()} KV cache{sequences}, {ours.Count} interleaved runs per engine" +
            RepeatsNote(run, llama is not null));
        output.WriteLine(string.Create(c, $"read bandwidth {RunStatistics.Median(Bandwidths) / 1e9:F1} GB/s (median of a probe before each run, {Bandwidths.Min() / 1e9:F1}–{Bandwidths.Max() / 1e9:F1}), " +
            $"{decodeBytes / 1e9:F2} GB read per decode step → decode roofline {RooflineDecode:F1} tok/s"));
        output.WriteLine($"{"engine",-10} {"prefill tok/s (min–max)",-28} {"decode tok/s (min–max)",-28} {"load s",8} {"peak RSS MB",12}");
        Row("glmsharp", ours);
        if (llama is not null)
        {
            Row("llama.cpp", llama);
            var a = Medians(ours);
            var b = Medians(llama);
            output.WriteLine(string.Create(c, $"ratio GlmSharp / llama.cpp: prefill {a.PrefillTokS / b.PrefillTokS:F2}×, decode {a.DecodeTokS / b.DecodeTokS:F2}× " +
                $"(median of per-pair ratios: prefill {PairedPrefillRatio:F2}×, decode {PairedDecode:F2}×)"));
        }
        if (ours[0].Result.TimeToFirstTokenMs is not null)
        {
            output.WriteLine($"glmsharp ran behind glm serve: {run.Parallel} streaming HTTP clients at once per run; {ClientPercentiles(r => r.TimeToFirstTokenMs!, "time to first token")}; " +
                ClientPercentiles(r => r.TimePerOutputTokenMs!, "time per output token"));
        }
        if (Medians(ours) is { MtpAcceptance: { } acceptance, TokensPerStep: { } perStep })
            output.WriteLine(string.Create(c, $"glmsharp drafted with its NextN layer (greedy output): {acceptance * 100:F0}% of drafts accepted, " +
                $"{perStep:F2} tokens per main-model step (medians); llama.cpp has no NextN graph and decodes one token a step"));
        string llamaShare = llama is null ? "" : string.Create(c, $", {RooflineFraction(llama) * 100:F0}% for llama.cpp");
        output.WriteLine(string.Create(c, $"decode at {RooflineFraction(ours) * 100:F0}% of the roofline for GlmSharp{llamaShare} (median over runs, each against the probe before it)"));

        string ClientPercentiles(Func<EngineResult, double[]> times, string name)
        {
            var p = ClientTimes(times)!;
            return string.Create(c, $"{name} p50 {p.P50:F0} ms, p90 {p.P90:F0} ms, p99 {p.P99:F0} ms");
        }

        void Row(string name, IReadOnlyList<TimedRun> runs)
        {
            var m = Medians(runs);
            string prefill = string.Create(c, $"{m.PrefillTokS:F1} ({runs.Min(r => r.Result.PrefillTokS):F1}–{runs.Max(r => r.Result.PrefillTokS):F1})");
            var samples = DecodeSamples(runs);
            string decode = string.Create(c, $"{m.DecodeTokS:F1} ({samples.Min():F1}–{samples.Max():F1})");
            output.WriteLine(string.Create(c, $"{name,-10} {prefill,-28} {decode,-28} {m.LoadS,8:F2} {m.PeakRssMb,12:F0}"));
        }
    }
}

/// <summary>One engine run and the read bandwidth probed just before it, in bytes per second.</summary>
internal sealed record TimedRun(EngineResult Result, double Bandwidth);
