using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using GlmSharp.Configs;
using GlmSharp.Tensors;

namespace GlmSharp.Cli.Commands.Bench;

/// <summary>
/// Medians of the interleaved vision runs, one row per image size, as a table or one JSON object. The speed ratio is
/// llama.cpp's encode time over GlmSharp's (above 1: GlmSharp is faster), the convention of the text benchmark's ratios.
/// </summary>
internal sealed class VisionBenchReport(string mmproj, Glm4vVisionConfig config, GgmlType? type, int threads, int runs, IReadOnlyList<VisionBenchReport.Row> rows)
{
    /// <param name="factor">Pixels per token along a side, to give the canvas the grid was cut from.</param>
    public sealed record Row(int Width, int Height, int Factor, IReadOnlyList<VisionResult> Ours, IReadOnlyList<VisionResult>? Llama)
    {
        public VisionResult Grid => Ours[0];
        public double OursMs => RunStatistics.Median(Ours.Select(r => r.EncodeMs));
        public double? LlamaMs => Llama is null ? null : RunStatistics.Median(Llama.Select(r => r.EncodeMs));
        public double? Ratio => LlamaMs / OursMs;
    }

    private sealed record EngineJson(
        [property: JsonPropertyName("encode_ms")] double EncodeMs,
        [property: JsonPropertyName("preprocess_ms")] double PreprocessMs,
        [property: JsonPropertyName("gflop_s")] double GflopS,
        [property: JsonPropertyName("load_s")] double LoadS,
        [property: JsonPropertyName("peak_rss_mb")] double PeakRssMb);

    private sealed record RowJson(
        [property: JsonPropertyName("image")] string Image,
        [property: JsonPropertyName("canvas")] string Canvas,
        [property: JsonPropertyName("patches")] int Patches,
        [property: JsonPropertyName("tokens")] int Tokens,
        [property: JsonPropertyName("gflop")] double Gflop,
        [property: JsonPropertyName("glmsharp")] EngineJson GlmSharp,
        [property: JsonPropertyName("llamacpp")] EngineJson? LlamaCpp,
        [property: JsonPropertyName("ratio")] double? Ratio);

    private sealed record Json(
        [property: JsonPropertyName("mmproj")] string Mmproj,
        [property: JsonPropertyName("blocks")] int Blocks,
        [property: JsonPropertyName("width")] int Width,
        [property: JsonPropertyName("heads")] int Heads,
        [property: JsonPropertyName("block_mlp")] int BlockMlp,
        [property: JsonPropertyName("matrix_type")] string? MatrixType,
        [property: JsonPropertyName("threads")] int Threads,
        [property: JsonPropertyName("runs")] int Runs,
        [property: JsonPropertyName("flop_formula")] string FlopFormula,
        [property: JsonPropertyName("images")] RowJson[] Images);

    private double Gflop(Row row) => VisionFlops.Of(config, row.Grid.Patches) / 1e9;

    private EngineJson Engine(Row row, IReadOnlyList<VisionResult> results)
    {
        double ms = RunStatistics.Median(results.Select(r => r.EncodeMs));
        return new EngineJson(ms, RunStatistics.Median(results.Select(r => r.PreprocessMs)), Gflop(row) / (ms / 1000),
            RunStatistics.Median(results.Select(r => r.LoadS)), RunStatistics.Median(results.Select(r => r.PeakRssMb)));
    }

    private static string Canvas(Row row) => $"{row.Grid.TokenCols * row.Factor}x{row.Grid.TokenRows * row.Factor}";

    public string ToJson() => JsonSerializer.Serialize(new Json(mmproj, config.Depth, config.HiddenSize, config.NumHeads, config.BlockMlpWidth,
        type?.ToString().ToLowerInvariant(), threads, runs, VisionFlops.Formula,
        [.. rows.Select(r => new RowJson($"{r.Width}x{r.Height}", Canvas(r), r.Grid.Patches, r.Grid.Tokens, Gflop(r),
            Engine(r, r.Ours), r.Llama is null ? null : Engine(r, r.Llama), r.Ratio))]));

    public void Print(TextWriter output)
    {
        var c = config;
        output.WriteLine($"vision encoder, {mmproj}: {c.Depth} blocks, width {c.HiddenSize}, {c.NumHeads} heads, block MLP {c.BlockMlpWidth}"
            + $"{(type is { } t ? $", {t} matrices" : "")}; {threads} threads; {runs} run(s) per engine, interleaved; medians");
        output.WriteLine($"{"image",-11} {"canvas",-11} {"patches",8} {"tokens",7} {"GFLOP",9} {"GlmSharp ms",12} {"GFLOP/s",8} {"llama.cpp ms",13} {"GFLOP/s",8} {"ratio",6}");
        foreach (var row in rows)
        {
            var ours = Engine(row, row.Ours);
            var llama = row.Llama is null ? null : Engine(row, row.Llama);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{$"{row.Width}x{row.Height}",-11} {Canvas(row),-11} {row.Grid.Patches,8} {row.Grid.Tokens,7} {Gflop(row),9:F1} {ours.EncodeMs,12:F1} {ours.GflopS,8:F1} " +
                $"{(llama is null ? "-" : llama.EncodeMs.ToString("F1", CultureInfo.InvariantCulture)),13} {(llama is null ? "-" : llama.GflopS.ToString("F1", CultureInfo.InvariantCulture)),8} " +
                $"{(row.Ratio is { } ratio ? ratio.ToString("F2", CultureInfo.InvariantCulture) : "-"),6}"));
        }
        output.WriteLine("ratio = llama.cpp encode ms / GlmSharp encode ms (above 1: GlmSharp faster); pre-processing is timed apart:");
        foreach (var row in rows)
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {row.Width}x{row.Height}: GlmSharp {Engine(row, row.Ours).PreprocessMs:F1} ms{(row.Llama is null ? "" : $", mtmd {Engine(row, row.Llama).PreprocessMs:F1} ms")}"));
        output.WriteLine(VisionFlops.Formula);
    }
}
