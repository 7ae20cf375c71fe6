using System.Text.Json;
using GlmSharp.Tests.Support;

namespace GlmSharp.Tests.Cli;

/// <summary>`glm plan` end to end: JSON shapes, their internal consistency, errors on bad catalogs, and chart files.</summary>
public sealed class PlanCliTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static JsonElement Json(params string[] args)
    {
        var result = GlmCli.Run(args);
        Assert.True(result.ExitCode == 0, $"glm {string.Join(' ', args)} failed: {result.Stderr}");
        return JsonDocument.Parse(result.Stdout).RootElement;
    }

    [Fact]
    public void Predict_Json_Has_Rates_Latency_Memory_And_A_Step_Breakdown_That_Agree()
    {
        var r = Json("plan", "predict", "--hardware", "dgx-h100", "--model", "deepseek-v3", "--precision", "fp8", "--chips", "32", "--ep", "32",
            "--phase", "decode", "--batch-per-chip", "64", "--input-len", "2000", "--output-len", "100", "--json");
        Assert.Equal("tp1 pp1 ep32 dp32", r.GetProperty("layout").GetString());
        double perChip = r.GetProperty("output_tokens_per_s_per_chip").GetDouble();
        double tpotMs = r.GetProperty("tpot_ms_p50").GetDouble();
        // Without MTP each of the 64 requests on a chip gains one token per step of TPOT.
        Assert.Equal(64 / (tpotMs / 1e3), perChip, perChip * 1e-9);
        Assert.Equal(perChip * 32, r.GetProperty("system_tokens_per_s").GetDouble(), perChip * 1e-9);
        Assert.InRange(r.GetProperty("memory_per_chip_gb").GetDouble(), 20, 80);
        Assert.True(r.GetProperty("fits").GetBoolean());
        var steps = r.GetProperty("step_breakdown_ms");
        foreach (var op in new[] { "attn.mla_core", "moe.experts", "moe.dispatch", "moe.combine", "lm_head" })
            Assert.True(steps.TryGetProperty(op, out _), $"no {op} in the breakdown");
        Assert.StartsWith("comm ", steps.GetProperty("moe.dispatch").GetString());
    }

    [Fact]
    public void Validate_Json_Reports_Every_Point_And_Meets_The_Targets()
    {
        var r = Json("plan", "validate", "--json", "--no-loo");
        var points = r.GetProperty("points").EnumerateArray().ToList();
        Assert.True(points.Count >= 20);
        foreach (var p in points)
        {
            double predicted = p.GetProperty("predicted").GetDouble(), measured = p.GetProperty("measured").GetDouble();
            Assert.Equal(predicted / measured - 1, p.GetProperty("error").GetDouble(), 1e-3);
            Assert.Equal(JsonValueKind.Null, p.GetProperty("loo_error").ValueKind);
            Assert.Contains("/", p.GetProperty("group").GetString());
        }
        var measuredErrors = points.Where(p => p.GetProperty("status").GetString() == "measured").Select(p => Math.Abs(p.GetProperty("error").GetDouble())).ToList();
        Assert.Equal(measuredErrors.Max(), r.GetProperty("max_abs_error").GetDouble(), 1e-3);
        Assert.InRange(r.GetProperty("median_abs_error").GetDouble(), 0, 0.15);
        Assert.InRange(r.GetProperty("max_abs_error").GetDouble(), 0, 0.35);
    }

    [Fact]
    public void Claims_Json_Lists_Each_Claim_With_Its_Reproduction()
    {
        var claims = Json("plan", "claims", "--json").EnumerateArray().ToList();
        Assert.NotEmpty(claims);
        foreach (var c in claims)
        {
            Assert.False(string.IsNullOrWhiteSpace(c.GetProperty("claim").GetString()));
            Assert.True(c.GetProperty("claimed").GetDouble() > 0);
            Assert.True(c.GetProperty("reproduced").GetDouble() > 0);
            Assert.False(string.IsNullOrWhiteSpace(c.GetProperty("derivation").GetString()));
            Assert.Contains(c.GetProperty("arithmetic_holds").ValueKind, new[] { JsonValueKind.True, JsonValueKind.False });
        }
    }

    [Fact]
    public void Bad_Catalog_File_Fails_Naming_The_File_And_The_Missing_Field()
    {
        string file = _dir.File("chips.json");
        File.WriteAllText(file, """{"chips": [{"id": "x", "name": "x", "vendor": "v", "family": "f", "status": "claim", "source": "s", "peak_tflops": {"bf16": 1}, "hbm_tbps": 1, "scale_up_gbps": 1}]}""");
        var result = GlmCli.Run("plan", "claims", "--catalog", file);
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("chips.json", result.Stderr);
        Assert.Contains("'hbm_gb'", result.Stderr);
    }

    [Fact]
    public void Search_Writes_Png_And_Svg_Charts()
    {
        string png = _dir.File("pareto.png"), svg = _dir.File("roofline.svg");
        var r = Json("plan", "search", "--hardware", "hgx-h200", "--model", "glm-4.5-air", "--precision", "fp8", "--chips", "8", "--chart", png, "--roofline", svg, "--json");
        Assert.True(r.GetProperty("pareto").GetArrayLength() > 0);
        byte[] head = File.ReadAllBytes(png)[..8];
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A }, head);
        Assert.Contains("<svg", File.ReadAllText(svg));
    }

    [Fact]
    public void Chart_With_Another_Extension_Is_Refused()
    {
        var result = GlmCli.Run("plan", "search", "--hardware", "hgx-h200", "--model", "glm-4.5-air", "--precision", "fp8", "--chips", "8", "--chart", _dir.File("front.jpg"));
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains(".png or .svg", result.Stderr);
    }

    [Fact]
    public void Probe_Writes_A_Catalog_That_Predict_Can_Use()
    {
        string file = _dir.File("probed.json");
        var peaks = Json("plan", "probe", "--threads", "1", "--seconds", "0.02", "--write", file, "--json");
        Assert.True(peaks.GetProperty("read_gb_per_second").GetDouble() > 0);
        Assert.True(peaks.GetProperty("fp32_gflops").GetDouble() > 0);
        var r = Json("plan", "predict", "--catalog", file, "--hardware", "probed-machine", "--model", "glm-4-9b", "--precision", "bf16",
            "--phase", "decode", "--batch-per-chip", "1", "--input-len", "128", "--output-len", "16", "--json");
        Assert.True(r.GetProperty("output_tokens_per_s_per_chip").GetDouble() > 0);
    }
}
