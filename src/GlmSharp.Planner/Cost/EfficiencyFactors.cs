using System.Text.Json;
using GlmSharp.Planner.Catalog;

namespace GlmSharp.Planner.Cost;

/// <summary>
/// What fraction of the peak a chip family's software reaches in one precision: for GEMM/attention math, for HBM
/// streaming, and a fixed cost per layer per step (kernel launches, synchronisation, dispatch latency) in microseconds.
/// </summary>
public sealed record EfficiencyFactors(double Compute, double Memory, double LayerOverheadUs)
{
    /// <summary>Before calibration: llm-analysis's suggested 0.7 FLOPS / 0.9 memory, plus a modest launch cost.</summary>
    public static readonly EfficiencyFactors Default = new(0.7, 0.9, 20);
}

/// <summary>Factors per (chip family, precision), as fitted by <c>glm plan calibrate</c>, with fallbacks for unseen pairs.</summary>
public sealed class EfficiencyTable
{
    private readonly Dictionary<(string Family, Precision Precision), EfficiencyFactors> _factors;

    public EfficiencyTable(Dictionary<(string, Precision), EfficiencyFactors> factors) => _factors = factors;

    public IReadOnlyDictionary<(string Family, Precision Precision), EfficiencyFactors> Entries => _factors;

    public static EfficiencyTable Empty => new([]);

    /// <summary>Exact pair, else the family's geometric mean over its other precisions, else the default.</summary>
    public EfficiencyFactors For(string family, Precision precision, out string basis)
    {
        if (_factors.TryGetValue((family, precision), out var f)) { basis = "fitted"; return f; }
        var same = _factors.Where(kv => kv.Key.Family == family).Select(kv => kv.Value).ToList();
        if (same.Count > 0) { basis = $"{family} at other precisions"; return GeoMean(same); }
        basis = "default (no calibration data for this family)";
        return EfficiencyFactors.Default;
    }

    public EfficiencyFactors For(string family, Precision precision) => For(family, precision, out _);

    public EfficiencyTable With(string family, Precision precision, EfficiencyFactors f)
    {
        var copy = new Dictionary<(string, Precision), EfficiencyFactors>(_factors) { [(family, precision)] = f };
        return new EfficiencyTable(copy);
    }

    public EfficiencyTable Without(string family, Precision precision)
    {
        var copy = new Dictionary<(string, Precision), EfficiencyFactors>(_factors);
        copy.Remove((family, precision));
        return new EfficiencyTable(copy);
    }

    private static EfficiencyFactors GeoMean(List<EfficiencyFactors> fs) => new(
        Math.Exp(fs.Average(f => Math.Log(f.Compute))),
        Math.Exp(fs.Average(f => Math.Log(f.Memory))),
        Math.Exp(fs.Average(f => Math.Log(f.LayerOverheadUs))));

    /// <summary>The shipped fit (Data/efficiency.json), or the defaults when no fit has been stored.</summary>
    public static EfficiencyTable LoadShipped() => Parse(EmbeddedData.Json("efficiency.json"), "efficiency.json (shipped)");

    public static EfficiencyTable LoadFile(string path) => Parse(EmbeddedData.ParseFile(path), path);

    public static EfficiencyTable Parse(JsonElement root, string origin)
    {
        var table = new Dictionary<(string, Precision), EfficiencyFactors>();
        if (!root.TryGetProperty("factors", out var list) || list.ValueKind != JsonValueKind.Array)
            throw new CatalogFormatException($"{origin}: expected an array 'factors'");
        int i = 0;
        foreach (var e in list.EnumerateArray())
        {
            string where = $"{origin}: factors[{i++}]";
            string family = e.TryGetProperty("family", out var fam) && fam.ValueKind == JsonValueKind.String ? fam.GetString()! : throw new CatalogFormatException($"{where}: field 'family' is missing");
            string prec = e.TryGetProperty("precision", out var pr) && pr.ValueKind == JsonValueKind.String ? pr.GetString()! : throw new CatalogFormatException($"{where}: field 'precision' is missing");
            table[(family, Precisions.Parse(prec, where))] = new EfficiencyFactors(
                Positive(e, "compute", where), Positive(e, "memory", where), Positive(e, "layer_overhead_us", where));
        }
        return new EfficiencyTable(table);
    }

    public string ToJson(string note)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("about", note);
            w.WriteStartArray("factors");
            foreach (var ((family, precision), f) in _factors.OrderBy(k => k.Key.Family).ThenBy(k => k.Key.Precision))
            {
                w.WriteStartObject();
                w.WriteString("family", family);
                w.WriteString("precision", precision.Name());
                w.WriteNumber("compute", Math.Round(f.Compute, 4));
                w.WriteNumber("memory", Math.Round(f.Memory, 4));
                w.WriteNumber("layer_overhead_us", Math.Round(f.LayerOverheadUs, 2));
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(ms.ToArray());
    }

    private static double Positive(JsonElement e, string field, string where)
    {
        if (!e.TryGetProperty(field, out var v) || v.ValueKind != JsonValueKind.Number || v.GetDouble() <= 0)
            throw new CatalogFormatException($"{where}: field '{field}' must be a positive number");
        return v.GetDouble();
    }
}
