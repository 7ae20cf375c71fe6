using System.Text.Json;
using GlmSharp.Planner.Catalog;

namespace GlmSharp.Planner.Validation;

public enum PointMode { Decode, Prefill, PdSlo, Serve }

public enum PointMetric { Output, Input, Total }

/// <summary>One measured serving result with the setup needed to predict it (see Data/validation.json).</summary>
public sealed record ValidationPoint
{
    public required string Id { get; init; }
    public required string Hardware { get; init; }
    public required string Model { get; init; }
    public required Precision Precision { get; init; }
    public required double KvBytes { get; init; }
    public required PointMode Mode { get; init; }
    public required int Tp { get; init; }
    public required int Ep { get; init; }
    public required int Dp { get; init; }
    public int[] EpOptions { get; init; } = [];
    public int? PrefillTp { get; init; }
    public int? PrefillEp { get; init; }
    public int? PrefillDp { get; init; }
    public int? PrefillChips { get; init; }
    public int? DecodeChips { get; init; }
    public int? BatchPerChip { get; init; }
    public double TokensPerChip { get; init; } = 16384;
    public double? TpotSloMs { get; init; }
    public int? Concurrency { get; init; }
    public int Requests { get; init; } = 500;
    public required int InputLen { get; init; }
    public int OutputLen { get; init; } = 1;
    public double MtpAcceptance { get; init; }
    public bool Overlap { get; init; } = true;
    public double ExpertImbalance { get; init; } = 1.0;
    public required PointMetric Metric { get; init; }
    public required double Measured { get; init; }
    public required string Status { get; init; }
    public required string Source { get; init; }
    public string? Assumed { get; init; }

    /// <summary>Measured results calibrate the model; vendor claims are only compared against it.</summary>
    public bool IsMeasured => Status == "measured";

    public static IReadOnlyList<ValidationPoint> LoadShipped() => Parse(EmbeddedData.Json("validation.json"), "validation.json (shipped)");

    public static IReadOnlyList<ValidationPoint> Parse(JsonElement root, string origin)
    {
        if (!root.TryGetProperty("points", out var list) || list.ValueKind != JsonValueKind.Array)
            throw new CatalogFormatException($"{origin}: expected an array 'points'");
        var points = new List<ValidationPoint>();
        int i = 0;
        foreach (var e in list.EnumerateArray()) points.Add(Read(new CatalogRecord(e, origin, i++)));
        var dup = points.GroupBy(p => p.Id).FirstOrDefault(g => g.Count() > 1);
        if (dup is not null) throw new CatalogFormatException($"{origin}: point id '{dup.Key}' appears twice");
        return points;
    }

    private static ValidationPoint Read(CatalogRecord r)
    {
        var mode = r.String("mode") switch
        {
            "decode" => PointMode.Decode,
            "prefill" => PointMode.Prefill,
            "pd_slo" => PointMode.PdSlo,
            "serve" => PointMode.Serve,
            var m => throw r.Fail("mode", $"is '{m}', expected decode, prefill, pd_slo or serve"),
        };
        var metric = r.String("metric") switch
        {
            "output" => PointMetric.Output,
            "input" => PointMetric.Input,
            "total" => PointMetric.Total,
            var m => throw r.Fail("metric", $"is '{m}', expected output, input or total"),
        };
        int? batch = r.Raw("batch_per_chip") is { ValueKind: JsonValueKind.String } s
            ? s.GetString() == "max" ? null : throw r.Fail("batch_per_chip", "must be an integer or \"max\"")
            : r.OptInt("batch_per_chip");
        int[] options = r.Raw("ep_options") is { ValueKind: JsonValueKind.Array } a ? [.. a.EnumerateArray().Select(x => x.GetInt32())] : [];
        double measured = r.Double("measured");
        if (measured <= 0) throw r.Fail("measured", "must be positive");
        return new ValidationPoint
        {
            Id = r.Id,
            Hardware = r.String("hardware"),
            Model = r.String("model"),
            Precision = Precisions.Parse(r.String("precision"), $"{r.Origin}: '{r.Id}': field 'precision'"),
            KvBytes = Precisions.Parse(r.OptString("kv_precision") ?? "bf16", $"{r.Origin}: '{r.Id}': field 'kv_precision'").WeightBytes() is var kb && kb < 1 ? 1 : kb,
            Mode = mode,
            Tp = r.OptInt("tp") ?? 1,
            Ep = r.OptInt("ep") ?? options.FirstOrDefault(1),
            Dp = r.OptInt("dp") ?? 1,
            EpOptions = options,
            PrefillTp = r.OptInt("prefill_tp"),
            PrefillEp = r.OptInt("prefill_ep"),
            PrefillDp = r.OptInt("prefill_dp"),
            PrefillChips = r.OptInt("prefill_chips"),
            DecodeChips = r.OptInt("decode_chips"),
            BatchPerChip = batch,
            TokensPerChip = r.OptDouble("tokens_per_chip") ?? 16384,
            TpotSloMs = r.OptDouble("tpot_slo_ms"),
            Concurrency = r.OptInt("concurrency"),
            Requests = r.OptInt("requests") ?? 500,
            InputLen = r.Int("input_len"),
            OutputLen = r.OptInt("output_len") ?? 1,
            MtpAcceptance = r.OptDouble("mtp_acceptance") ?? 0,
            Overlap = r.OptBool("overlap") ?? true,
            ExpertImbalance = r.OptDouble("expert_imbalance") ?? 1.0,
            Metric = metric,
            Measured = measured,
            Status = r.Status,
            Source = r.Source,
            Assumed = r.OptString("assumed"),
        };
    }
}
