using System.Text.Json;
using GlmSharp.Tensors;
using GlmSharp.Tests.Support;

namespace GlmSharp.Tests.Cli;

/// <summary>`glm bench --json` on a tiny model: the object the speed issue specifies, from both engines.</summary>
public sealed class BenchCliTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>A prompt and decode shorter than the warm-up used to overflow the context the run had sized.</summary>
    [Fact]
    public void Json_Report_Has_Both_Engines_Ratios_And_The_Roofline_Even_For_A_Run_Shorter_Than_The_Warm_Up()
    {
        var spec = new TinyGlmSpec("glm4", 160, 64, 2, 4, 2, 16, 96, 0.5, Bias: true, Tied: false);
        string gguf = new RandomGlmCheckpoint(spec, seed: 5).WriteGguf(_dir.File("model.gguf"), GgmlType.Q8_0);

        var result = GlmCli.Run("bench", "--model", gguf, "--threads", "1", "--runs", "1", "--prompt", "8", "--gen", "4", "--vs-llamacpp", "--json");

        Assert.True(result.ExitCode == 0, result.Stderr);
        using var report = JsonDocument.Parse(result.Stdout);
        var root = report.RootElement;
        Assert.Equal("model.gguf", root.GetProperty("model").GetString());
        Assert.Equal(1, root.GetProperty("threads").GetInt32());
        foreach (var engine in new[] { "glmsharp", "llamacpp" })
            foreach (var key in new[] { "prefill_tok_s", "decode_tok_s", "load_s", "peak_rss_mb" })
                Assert.True(root.GetProperty(engine).GetProperty(key).GetDouble() > 0, $"{engine}.{key}");
        double ratio = root.GetProperty("ratio_decode").GetDouble();
        Assert.Equal(root.GetProperty("glmsharp").GetProperty("decode_tok_s").GetDouble() / root.GetProperty("llamacpp").GetProperty("decode_tok_s").GetDouble(), ratio, 6);
        Assert.True(root.GetProperty("ratio_prefill").GetDouble() > 0);
        Assert.True(root.GetProperty("roofline_decode_tok_s").GetDouble() > 0);
        // One run per engine: the median of per-pair ratios is that pair's ratio.
        Assert.Equal(ratio, root.GetProperty("ratio_decode_paired").GetDouble(), 6);
        double fraction = root.GetProperty("glmsharp_roofline_fraction").GetDouble();
        Assert.True(fraction > 0 && double.IsFinite(fraction), $"roofline fraction {fraction}");
    }
}
