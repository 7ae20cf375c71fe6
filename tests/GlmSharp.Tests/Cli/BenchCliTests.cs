using System.Text.Json;
using GlmSharp.Tensors;
using GlmSharp.Tests.Support;

namespace GlmSharp.Tests.Cli;

/// <summary>`glm bench` on a tiny model: the JSON object the speed issue specifies, from both engines, and its option checks.</summary>
public sealed class BenchCliTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>
    /// A prompt and decode shorter than the warm-up used to overflow the context the run had sized. With --parallel 3
    /// both engines run three sequences per step and report aggregate rates.
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void Json_Report_Has_Both_Engines_Ratios_And_The_Roofline_Even_For_A_Run_Shorter_Than_The_Warm_Up(int parallel)
    {
        var spec = new TinyGlmSpec("glm4", 160, 64, 2, 4, 2, 16, 96, 0.5, Bias: true, Tied: false);
        string gguf = new RandomGlmCheckpoint(spec, seed: 5).WriteGguf(_dir.File("model.gguf"), GgmlType.Q8_0);

        var result = GlmCli.Run("bench", "--model", gguf, "--threads", "1", "--runs", "1", "--prompt", "8", "--gen", "4", "--parallel", $"{parallel}", "--vs-llamacpp", "--json");

        Assert.True(result.ExitCode == 0, result.Stderr);
        using var report = JsonDocument.Parse(result.Stdout);
        var root = report.RootElement;
        Assert.Equal("model.gguf", root.GetProperty("model").GetString());
        Assert.Equal(1, root.GetProperty("threads").GetInt32());
        Assert.Equal(parallel, root.GetProperty("parallel").GetInt32());
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

    /// <summary>
    /// With --serve GlmSharp's runs go through glm serve: three streaming HTTP clients at once, whose times to first token
    /// and per output token come as percentiles; llama.cpp runs its batched decode of the same shape. Serving needs a
    /// tokenizer, so the model is the shipped one converted to GGUF.
    /// </summary>
    [Fact]
    public void Served_Runs_Report_Client_Latency_Percentiles_Beside_Both_Engines()
    {
        string gguf = _dir.File("model.gguf");
        var convert = GlmCli.Run("convert", Path.Combine(AppContext.BaseDirectory, "models", "glm-tiny-chat"), gguf, "--type", "q8_0");
        Assert.True(convert.ExitCode == 0, convert.Stderr);

        // 24 tokens each: the clients must all be decoding at once for a while, even when a loaded machine admits them
        // several steps apart (6 was once too few under a fuzzing run).
        var result = GlmCli.Run("bench", "--model", gguf, "--threads", "1", "--runs", "2", "--prompt", "8", "--gen", "24", "--parallel", "3", "--serve", "--vs-llamacpp", "--json");

        Assert.True(result.ExitCode == 0, result.Stderr);
        using var report = JsonDocument.Parse(result.Stdout);
        var root = report.RootElement;
        foreach (var engine in new[] { "glmsharp", "llamacpp" })
            Assert.True(root.GetProperty(engine).GetProperty("decode_tok_s").GetDouble() > 0, engine);
        foreach (var latency in new[] { "glmsharp_ttft_ms", "glmsharp_tpot_ms" })
        {
            var percentiles = root.GetProperty(latency);
            double p50 = percentiles.GetProperty("p50").GetDouble(), p90 = percentiles.GetProperty("p90").GetDouble(), p99 = percentiles.GetProperty("p99").GetDouble();
            Assert.True(p50 > 0 && p50 <= p90 && p90 <= p99, $"{latency}: {p50}, {p90}, {p99}");
        }
    }

    /// <summary>
    /// With --mtp GlmSharp drafts with the model's NextN layer and reports how many drafts the model kept and the tokens
    /// each main-model step made; llama.cpp decodes the same prompt one token a step. The model is a glm4_moe with a
    /// NextN layer, from the trainer (random weights, a small vocabulary) converted to GGUF.
    /// </summary>
    [Fact]
    public void Mtp_Runs_Report_Acceptance_And_Tokens_Per_Step()
    {
        var vocabulary = GlmSharp.Tokenizers.BpeTrainer.Train([Training.TinyCorpus.Text], 300);
        var tiny = Training.MoeModelGradientTests.Tiny(shared: true, normalize: true, nextN: true);
        var weights = new GlmSharp.Training.Glm4MoeTrainingWeights(tiny with { Attention = tiny.Attention with { VocabSize = 300, MaxPositions = 256 } });
        weights.Initialize(seed: 3);
        string folder = _dir.File("moe");
        GlmSharp.Training.HfCheckpointExporter.Export(weights, vocabulary, folder);
        string gguf = _dir.File("moe.gguf");
        var convert = GlmCli.Run("convert", folder, gguf, "--type", "f32");
        Assert.True(convert.ExitCode == 0, convert.Stderr);

        var result = GlmCli.Run("bench", "--model", gguf, "--threads", "1", "--runs", "1", "--prompt", "8", "--gen", "12", "--mtp", "--draft-tokens", "2", "--vs-llamacpp", "--json");

        Assert.True(result.ExitCode == 0, result.Stderr);
        using var report = JsonDocument.Parse(result.Stdout);
        var ours = report.RootElement.GetProperty("glmsharp");
        double acceptance = ours.GetProperty("mtp_acceptance").GetDouble(), perStep = ours.GetProperty("tokens_per_step").GetDouble();
        Assert.InRange(acceptance, 0, 1);
        // Each step makes its accepted drafts plus one token of its own: 1 + 2·acceptance with two drafts a step.
        Assert.InRange(perStep, 1, 3);
        Assert.True(ours.GetProperty("decode_tok_s").GetDouble() > 0);
        Assert.True(report.RootElement.GetProperty("llamacpp").GetProperty("decode_tok_s").GetDouble() > 0);
        Assert.False(report.RootElement.GetProperty("llamacpp").TryGetProperty("mtp_acceptance", out _));
    }

    /// <summary>
    /// --depth: one row per depth, each with both engines' decode after a context of that many tokens. The model is a tiny
    /// glm-dsa (top-k 16), so the deeper row decodes on the sparse path in both engines; each run decodes twice after its
    /// one prefill, its caches (latents and indexer keys) cut back to the context in between, the engines' rounds alternating.
    /// </summary>
    [Fact]
    public void Depth_Report_Has_One_Row_Per_Depth_With_Both_Engines()
    {
        var spec = new TinyMlaSpec(160, 64, 2, 4, QLora: 48, KvLora: 32, Nope: 24, Rope: 64, ValueDim: 32, DenseIntermediate: 96,
            Experts: 8, ExpertsPerToken: 2, ExpertWidth: 32, SharedExperts: 1, FirstDense: 1, Context: 256, Dsa: new(Heads: 8, TopK: 16, "FS"));
        string gguf = new RandomMlaCheckpoint(spec, seed: 3).WriteGguf(_dir.File("dsa.gguf"), GgmlType.F32);

        var result = GlmCli.Run("bench", "--model", gguf, "--threads", "1", "--runs", "1", "--depth", "8,100", "--gen", "4", "--decode-repeats", "2",
            "--vs-llamacpp", "--json");

        Assert.True(result.ExitCode == 0, result.Stderr);
        using var report = JsonDocument.Parse(result.Stdout);
        var depths = report.RootElement.GetProperty("depths").EnumerateArray().ToArray();
        Assert.Equal([8, 100], depths.Select(d => d.GetProperty("depth").GetInt32()));
        foreach (var row in depths)
        {
            foreach (var engine in new[] { "glmsharp", "llamacpp" })
                Assert.True(row.GetProperty(engine).GetProperty("decode_tok_s").GetDouble() > 0, $"depth {row.GetProperty("depth")}: {engine}");
            double ratio = row.GetProperty("ratio_decode").GetDouble();
            Assert.Equal(row.GetProperty("glmsharp").GetProperty("decode_tok_s").GetDouble() / row.GetProperty("llamacpp").GetProperty("decode_tok_s").GetDouble(), ratio, 6);
            // The rounds alternated between the engines, so the paired ratio is the median of round r's over round r's.
            double[] Rounds(string engine) => [.. row.GetProperty(engine).GetProperty("decode_samples_tok_s").EnumerateArray().Select(v => v.GetDouble())];
            double[] roundRatios = [.. Rounds("glmsharp").Zip(Rounds("llamacpp"), (a, b) => a / b).Order()];
            Assert.Equal(2, roundRatios.Length);
            Assert.Equal((roundRatios[0] + roundRatios[1]) / 2, row.GetProperty("ratio_decode_paired").GetDouble(), 6);
        }
    }

    /// <summary>Every option out of range is one line naming it, before any model is written or run.</summary>
    [Theory]
    [InlineData("--model M --threads 0", "--threads 0")]
    [InlineData("--model M --prompt 0", "--prompt 0")]
    [InlineData("--model M --gen -1", "--gen -1")]
    [InlineData("--model M --parallel 0", "--parallel 0")]
    [InlineData("--model M --runs 0", "--runs 0")]
    [InlineData("--model M --decode-repeats 0", "--decode-repeats 0")]
    [InlineData("--model M --decode-repeats 2 --serve", "--decode-repeats times plain decoding")]
    [InlineData("--model M --cache-type q4_0", "--cache-type q4_0")]
    [InlineData("--model M --type q4_0", "--type")]
    [InlineData("--model M --out copy.gguf", "--out")]
    [InlineData("--model M --synthetic edge-1.5b", "not both")]
    [InlineData("--model M --engine llamacpp", "--engine llamacpp")]
    [InlineData("--model M --threads two", "'two'")]
    [InlineData("--synthetic edge-9b", "'edge-9b'")]
    [InlineData("--synthetic edge-1.5b --type q7_k", "'q7_k'")]
    [InlineData("--runs 1", "give --model")]
    [InlineData("--model M", "M: no such file")]
    [InlineData("--model M --layers 2", "--layers shortens a --synthetic model")]
    [InlineData("--synthetic glm-4.5-air --layers 0", "--layers 0")]
    [InlineData("--synthetic glm-4.5-air --layers 47", "--layers 47: glm-4.5-air has 1 to 46 layers")]
    [InlineData("--model M --mtp --draft-tokens 0", "--draft-tokens 0")]
    [InlineData("--model M --mtp --serve", "--mtp and --serve")]
    [InlineData("--model M --mtp --parallel 2", "--parallel 2")]
    [InlineData("--model M --depth 512,x", "'x'")]
    [InlineData("--model M --depth 0", "--depth 0")]
    [InlineData("--model M --depth 512 --serve", "--depth times plain decoding")]
    [InlineData("--model M --depth 512 --prompt 64", "not both")]
    [InlineData("--model M --heads 4", "--heads changes a --synthetic model")]
    [InlineData("--synthetic glm-4-9b --heads 4", "--heads 4: only the MLA models")]
    [InlineData("--synthetic glm-5 --heads 65", "--heads 65: glm-5 has 1 to 64 heads")]
    [InlineData("--synthetic glm-5 --heads 0", "--heads 0")]
    [InlineData("--model M --int8-indexer --serve", "--int8-indexer applies to plain decoding")]
    [InlineData("--model M --lockstep", "--lockstep belongs to the runs glm bench starts itself")]
    public void A_Bad_Option_Is_One_Line_Naming_It_And_Exit_Code_1(string arguments, string named)
    {
        string model = _dir.File("missing.gguf");
        var result = GlmCli.Run(["bench", .. arguments.Split(' ').Select(a => a == "M" ? model : a)]);

        Assert.Equal(1, result.ExitCode);
        Assert.Single(result.Stderr.Trim().Split('\n'));
        Assert.Contains(named.Replace("M: ", model + ": "), result.Stderr);
        Assert.DoesNotContain("   at ", result.Stderr);
    }
}
