using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using GlmSharp.Errors;
using GlmSharp.Kernels;

namespace GlmSharp.Cli.Commands.Bench;

/// <summary>
/// <c>glm bench --depth D[,D…]</c>: decode speed after a context of each depth, one row per depth. Each run prefills D
/// tokens (in steps of <see cref="RunSettings.PrefillChunk"/>, both engines) and then times --gen decode steps, so a
/// row shows what a longer context costs each decoded token: for dense attention it grows with D, for DeepSeek sparse
/// attention only the indexer's share does once D passes index_topk. Medians and the median of per-pair ratios, as in
/// <see cref="BenchReport"/>.
/// </summary>
internal sealed class DecodeDepths(string model, RunSettings run, IReadOnlyList<DecodeDepths.Row> rows)
{
    /// <summary>One depth's interleaved runs.</summary>
    public sealed record Row(int Depth, IReadOnlyList<TimedRun> Ours, IReadOnlyList<TimedRun>? Llama);

    /// <summary>The depths of a comma-separated list, or a one-line error naming the first that is not a whole number of at least 1.</summary>
    public static int[] Parse(string list)
    {
        var depths = list.Split(',', StringSplitOptions.TrimEntries);
        return [.. depths.Select(d => int.TryParse(d, NumberStyles.None, CultureInfo.InvariantCulture, out int depth) && depth >= 1 ? depth
            : throw new GlmException($"--depth {list}: '{d}' is not a context length of at least 1 token"))];
    }

    private sealed record JsonRow(
        [property: JsonPropertyName("depth")] int Depth,
        [property: JsonPropertyName("glmsharp")] EngineResult GlmSharp,
        [property: JsonPropertyName("llamacpp")] EngineResult? LlamaCpp,
        [property: JsonPropertyName("ratio_decode")] double? RatioDecode,
        [property: JsonPropertyName("ratio_decode_paired")] double? RatioDecodePaired);

    private sealed record Json(
        [property: JsonPropertyName("model")] string Model,
        [property: JsonPropertyName("threads")] int Threads,
        [property: JsonPropertyName("cache_type")] string CacheType,
        [property: JsonPropertyName("gen")] int Gen,
        [property: JsonPropertyName("depths")] JsonRow[] Depths);

    private static double? PairedDecodeRatio(Row row) => row.Llama is null ? null : BenchReport.PairedDecodeRatio(row.Ours, row.Llama);

    public string ToJson() => JsonSerializer.Serialize(new Json(model, run.Threads, run.CacheType.Name(), run.Gen, [.. rows.Select(r =>
    {
        var ours = BenchReport.Medians(r.Ours);
        var llama = r.Llama is null ? null : BenchReport.Medians(r.Llama);
        return new JsonRow(r.Depth, ours, llama, llama is null ? null : ours.DecodeTokS / llama.DecodeTokS, PairedDecodeRatio(r));
    })]));

    public void Print(TextWriter output)
    {
        var c = CultureInfo.InvariantCulture;
        bool both = rows[0].Llama is not null;
        output.WriteLine($"model {model}, {run.Threads} threads, {run.CacheType.Name()} KV cache, {run.Gen} decode steps after each depth, " +
            $"{rows[0].Ours.Count} interleaved runs per engine and depth" +
            BenchReport.RepeatsNote(run, both));
        string header = $"{"depth",8} {"glmsharp decode tok/s (min–max)",-34} {"ms/tok",8} {"prefill tok/s",14}";
        if (both) header += $"   {"llama.cpp decode tok/s (min–max)",-34} {"ms/tok",8} {"prefill tok/s",14}   {"decode ratio (paired)",-22}";
        output.WriteLine(header);
        foreach (var row in rows)
        {
            string line = string.Create(c, $"{row.Depth,8} {Engine(row.Ours)}");
            if (row.Llama is { } llama)
            {
                double ratio = BenchReport.Medians(row.Ours).DecodeTokS / BenchReport.Medians(llama).DecodeTokS;
                line += string.Create(c, $"   {Engine(llama)}   {ratio:F2}× ({PairedDecodeRatio(row):F2}×)");
            }
            output.WriteLine(line);
        }

        string Engine(IReadOnlyList<TimedRun> runs)
        {
            var m = BenchReport.Medians(runs);
            var samples = BenchReport.DecodeSamples(runs);
            string decode = string.Create(c, $"{m.DecodeTokS:F2} ({samples.Min():F2}–{samples.Max():F2})");
            return string.Create(c, $"{decode,-34} {1000 / m.DecodeTokS,8:F1} {m.PrefillTokS,14:F1}");
        }
    }
}
