using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace GlmSharp.Cli.Commands.Bench;

/// <summary>Medians (and spread) of the interleaved runs of each engine, printed as a table or as one JSON object.</summary>
internal sealed class BenchReport(string model, int threads, string cacheType, double bandwidth, long decodeBytes,
    IReadOnlyList<EngineResult> ours, IReadOnlyList<EngineResult>? llama)
{
    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.OrderBy(v => v).ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static EngineResult Medians(IReadOnlyList<EngineResult> runs) => new(
        Median(runs.Select(r => r.PrefillTokS)), Median(runs.Select(r => r.DecodeTokS)),
        Median(runs.Select(r => r.LoadS)), Median(runs.Select(r => r.PeakRssMb)));

    public double RooflineDecode => bandwidth / decodeBytes;

    private sealed record Json(
        [property: JsonPropertyName("model")] string Model,
        [property: JsonPropertyName("threads")] int Threads,
        [property: JsonPropertyName("cache_type")] string CacheType,
        [property: JsonPropertyName("glmsharp")] EngineResult GlmSharp,
        [property: JsonPropertyName("llamacpp")] EngineResult? LlamaCpp,
        [property: JsonPropertyName("ratio_prefill")] double? RatioPrefill,
        [property: JsonPropertyName("ratio_decode")] double? RatioDecode,
        [property: JsonPropertyName("roofline_decode_tok_s")] double RooflineDecodeTokS);

    public string ToJson()
    {
        var a = Medians(ours);
        var b = llama is null ? null : Medians(llama);
        return JsonSerializer.Serialize(new Json(model, threads, cacheType, a, b, b is null ? null : a.PrefillTokS / b.PrefillTokS,
            b is null ? null : a.DecodeTokS / b.DecodeTokS, RooflineDecode));
    }

    public void Print(TextWriter output)
    {
        var c = CultureInfo.InvariantCulture;
        output.WriteLine($"model {model}, {threads} threads, {cacheType} KV cache, {ours.Count} interleaved runs per engine");
        output.WriteLine(string.Create(c, $"read bandwidth {bandwidth / 1e9:F1} GB/s, {decodeBytes / 1e9:F2} GB read per decoded token → decode roofline {RooflineDecode:F1} tok/s"));
        output.WriteLine($"{"engine",-10} {"prefill tok/s (min–max)",-28} {"decode tok/s (min–max)",-28} {"load s",8} {"peak RSS MB",12}");
        Row("glmsharp", ours);
        if (llama is not null)
        {
            Row("llama.cpp", llama);
            var a = Medians(ours);
            var b = Medians(llama);
            output.WriteLine(string.Create(c, $"ratio GlmSharp / llama.cpp: prefill {a.PrefillTokS / b.PrefillTokS:F2}×, decode {a.DecodeTokS / b.DecodeTokS:F2}×"));
        }
        output.WriteLine(string.Create(c, $"GlmSharp decode at {Medians(ours).DecodeTokS / RooflineDecode * 100:F0}% of the roofline"));

        void Row(string name, IReadOnlyList<EngineResult> runs)
        {
            var m = Medians(runs);
            string prefill = string.Create(c, $"{m.PrefillTokS:F1} ({runs.Min(r => r.PrefillTokS):F1}–{runs.Max(r => r.PrefillTokS):F1})");
            string decode = string.Create(c, $"{m.DecodeTokS:F1} ({runs.Min(r => r.DecodeTokS):F1}–{runs.Max(r => r.DecodeTokS):F1})");
            output.WriteLine(string.Create(c, $"{name,-10} {prefill,-28} {decode,-28} {m.LoadS,8:F2} {m.PeakRssMb,12:F0}"));
        }
    }
}
