using System.Text.Json;
using GlmSharp.Cli.Commands.Bench;
using GlmSharp.Kernels;

namespace GlmSharp.Tests.Cli;

/// <summary>The bench report's arithmetic, on runs whose numbers are chosen so that every field can be worked out by hand.</summary>
public sealed class BenchReportTests
{
    /// <summary>A decode step of N rows reads the weights once and makes N tokens: the roofline counts steps, not tokens.</summary>
    [Fact]
    public void With_Several_Sequences_The_Roofline_Is_Their_Aggregate_And_The_Json_Says_How_Many()
    {
        var run = new RunSettings(Threads: 2, Prompt: 8, Gen: 4, Parallel: 4, KvCacheType.F16);
        TimedRun[] ours = [new(new EngineResult(100, 40, 0.1, 10), Bandwidth: 50e9), new(new EngineResult(300, 60, 0.3, 30), Bandwidth: 30e9)];
        TimedRun[] llama = [new(new EngineResult(50, 20, 1, 20), Bandwidth: 40e9), new(new EngineResult(100, 40, 3, 40), Bandwidth: 60e9)];

        using var json = JsonDocument.Parse(new BenchReport("m.gguf", run, decodeBytes: 1_000_000_000, ours, llama).ToJson());
        var root = json.RootElement;

        Assert.Equal(4, root.GetProperty("parallel").GetInt32());
        Assert.Equal("f16", root.GetProperty("cache_type").GetString());
        Assert.Equal(200, root.GetProperty("glmsharp").GetProperty("prefill_tok_s").GetDouble(), 9);
        Assert.Equal(50, root.GetProperty("glmsharp").GetProperty("decode_tok_s").GetDouble(), 9);
        // Bandwidths 30, 40, 50, 60 GB/s: median 45 GB/s, 1 GB per step, 4 tokens per step.
        Assert.Equal(4 * 45, root.GetProperty("roofline_decode_tok_s").GetDouble(), 9);
        // Each run against its own probe: 40 / (4 · 50) = 0.2 and 60 / (4 · 30) = 0.5.
        Assert.Equal(0.35, root.GetProperty("glmsharp_roofline_fraction").GetDouble(), 9);
        Assert.Equal(50.0 / 30, root.GetProperty("ratio_decode").GetDouble(), 9);
        // Pairs: 40 / 20 = 2 and 60 / 40 = 1.5.
        Assert.Equal(1.75, root.GetProperty("ratio_decode_paired").GetDouble(), 9);
    }
}
