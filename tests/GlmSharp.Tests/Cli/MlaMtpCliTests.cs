using System.Text.Json;
using GlmSharp.Formats.Gguf;
using GlmSharp.Tests.Support;

namespace GlmSharp.Tests.Cli;

/// <summary>
/// The multi-token-prediction layer of glm4_moe_lite (GLM-4.7-Flash) and glm_moe_dsa (GLM-5) through the CLI: `glm info`
/// shows it; `glm convert` writes it for glm-dsa and leaves it out for deepseek2, whose loader in this llama.cpp refuses
/// it; `glm generate --mtp` and `glm bench --mtp` draft with it from the Hugging Face folder and from a GGUF that carries
/// it; files whose NextN keys or tensors do not add up are one-line errors.
/// </summary>
public sealed class MlaMtpCliTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static readonly TinyDsaSpec Indexer = new(Heads: 4, TopK: 8, "FS", HeadDim: 32);

    private string Folder(bool sparse) => TinyMoeChatModel.WriteMla(_dir.File(sparse ? "dsa" : "lite"), sparse ? Indexer : null);

    /// <summary>A GGUF with the NextN layer: `glm convert`'s for glm-dsa; for deepseek2 as llama.cpp's newer converter writes it.</summary>
    private string Gguf(bool sparse)
    {
        string gguf = _dir.File(sparse ? "dsa.gguf" : "lite.gguf");
        if (!sparse) return TinyMoeChatModel.WriteMlaGguf(gguf);
        var convert = GlmCli.Run("convert", Folder(sparse), gguf, "--type", "f32");
        Assert.True(convert.ExitCode == 0, convert.Stderr);
        return gguf;
    }

    [Theory]
    [InlineData(false, "glm4_moe_lite (llama.cpp: deepseek2)", "deepseek2")]
    [InlineData(true, "glm_moe_dsa (llama.cpp: glm-dsa)", "glm-dsa")]
    public void Info_Shows_The_Mtp_Layer_And_Convert_Writes_It_Where_LlamaCpp_Reads_It(bool sparse, string architecture, string ggufArchitecture)
    {
        string folder = Folder(sparse), converted = _dir.File("converted.gguf");
        var convert = GlmCli.Run("convert", folder, converted, "--type", "f32");
        Assert.True(convert.ExitCode == 0, convert.Stderr);
        using (var file = GgufFile.Open(converted))
        {
            Assert.Equal(sparse ? 3u : 2u, file.Metadata.GetUInt($"{ggufArchitecture}.block_count"));
            Assert.Equal(sparse, file.Metadata.TryGetUInt($"{ggufArchitecture}.nextn_predict_layers", out uint nextN) && nextN == 1);
            Assert.Equal(sparse, file.Tensors.Any(t => t.Name == "blk.2.nextn.eh_proj.weight"));
            Assert.Equal(sparse, file.Tensors.Any(t => t.Name == "blk.2.ffn_gate_exps.weight"));
            Assert.Equal(sparse, file.Tensors.Any(t => t.Name == "blk.2.indexer.attn_k.weight"));
        }
        string[] withLayer = sparse ? [folder, converted] : [folder, Gguf(sparse)];
        foreach (string model in withLayer)
        {
            var info = GlmCli.Run("info", "--model", model);
            Assert.True(info.ExitCode == 0, info.Stderr);
            Assert.Contains(architecture, info.Stdout);
            Assert.Contains("2, hidden 64", info.Stdout);
            Assert.Contains("1 multi-token-prediction layer after the main stack; layer 2 drafts with --mtp", info.Stdout);
        }
        if (!sparse) Assert.DoesNotContain("multi-token-prediction", GlmCli.Run("info", "--model", converted).Stdout);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Greedy_Output_With_The_Mtp_Layer_Equals_Output_Without_From_The_Folder_And_The_Gguf(bool sparse)
    {
        foreach (string model in new[] { Folder(sparse), Gguf(sparse) })
        {
            string[] common = ["generate", "--model", model, "--prompt", "Once upon a time, there was a model", "--max-tokens", "30", "--temperature", "0", "--output", "ids"];
            var alone = GlmCli.Run(common);
            var speculative = GlmCli.Run([.. common, "--mtp", "--draft-tokens", "2", "--verbose"]);
            Assert.True(alone.ExitCode == 0, alone.Stderr);
            Assert.True(speculative.ExitCode == 0, speculative.Stderr);
            Assert.Equal(alone.Stdout, speculative.Stdout);
            Assert.Matches(@"speculative decoding: \d+ of \d+ drafted tokens accepted", speculative.Stderr);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Bench_Mtp_Reports_Acceptance_And_Tokens_Per_Step(bool sparse)
    {
        var result = GlmCli.Run("bench", "--model", Gguf(sparse), "--threads", "1", "--runs", "1", "--prompt", "8", "--gen", "12",
            "--mtp", "--draft-tokens", "3", "--json");

        Assert.True(result.ExitCode == 0, result.Stderr);
        using var report = JsonDocument.Parse(result.Stdout);
        var ours = report.RootElement.GetProperty("glmsharp");
        Assert.InRange(ours.GetProperty("mtp_acceptance").GetDouble(), 0, 1);
        // Each step makes its accepted drafts plus one token of its own: at most 1 + 3 with three drafts a step.
        Assert.InRange(ours.GetProperty("tokens_per_step").GetDouble(), 1, 4);
    }

    [Fact]
    public void Next_N_Layers_Leaving_No_Main_Layer_Are_A_One_Line_Error_Naming_The_Key()
    {
        string bad = GgufRewrite.WithMetadata(Gguf(sparse: false), _dir.File("bad.gguf"),
            new Dictionary<string, object?> { ["deepseek2.nextn_predict_layers"] = 3u });
        var result = GlmCli.Run("info", "--model", bad);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("deepseek2.nextn_predict_layers 3 leaves no main layers of block_count 3", result.Stderr);
        Assert.DoesNotContain("   at ", result.Stderr);
    }

    /// <summary>
    /// A file that counts a NextN layer (block_count 3, nextn_predict_layers 1) but lacks its own parts (blk.2.nextn.*)
    /// still runs its main stack; drafting with it names the first missing tensor.
    /// </summary>
    [Fact]
    public void Mtp_With_The_Layers_Own_Tensors_Missing_Is_A_One_Line_Error_Naming_The_Tensor()
    {
        string headless = GgufRewrite.WithTensorsDropped(Gguf(sparse: true), _dir.File("headless.gguf"),
            name => name.StartsWith("blk.2.nextn.", StringComparison.Ordinal));
        string[] common = ["generate", "--model", headless, "--prompt", "x", "--max-tokens", "4", "--temperature", "0"];
        Assert.Equal(0, GlmCli.Run(common).ExitCode);
        var result = GlmCli.Run([.. common, "--mtp"]);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("tensor 'model.layers.2.enorm.weight' is missing", result.Stderr);
        Assert.DoesNotContain("   at ", result.Stderr);
    }
}
