using GlmSharp.Errors;
using GlmSharp.Formats.Gguf;
using GlmSharp.Models;
using GlmSharp.Tensors;
using GlmSharp.Tests.Support;
using Xunit.Abstractions;

namespace GlmSharp.Tests.Oracle;

/// <summary>
/// Checkpoints in THUDM's own chatglm layout (model_type "chatglm", glm-4-9b-chat as first published): GlmSharp runs the
/// folder and `glm convert` writes it as a GGUF that llama.cpp runs.
/// </summary>
[Trait("Oracle", "llama.cpp")]
public sealed class ChatGlmCheckpointOracleTests(ITestOutputHelper output)
{
    public static TheoryData<TinyGlmSpec> Shapes() =>
    [
        // glm-4-9b-chat's form: GQA (multi_query_group_num 2), q/k/v bias, rope_ratio 500.
        new TinyGlmSpec("glm", 160, 64, 2, 8, 2, 8, 96, 0.5, Bias: true, Tied: false, RopeTheta: 5e6, RmsEps: 1.5625e-7),
        // One group per head (ChatGLM3 at other sizes), no bias, rope_ratio 1.
        new TinyGlmSpec("glm", 150, 64, 3, 4, 4, 16, 128, 0.5, Bias: false, Tied: false),
    ];

    /// <summary>
    /// llama.cpp runs the same weights from a GGUF our test writer makes from the spec (fused attn_qkv, as llama.cpp's
    /// converter writes THUDM's files), so that GlmSharp's reading of THUDM's names and config keys is checked against
    /// what the spec means; the GGUF `glm convert` writes from the folder must run the same in llama.cpp.
    /// </summary>
    [Theory]
    [MemberData(nameof(Shapes))]
    public void Folder_And_Its_Glm_Convert_Gguf_Give_LlamaCpp_Logits_And_Greedy_Tokens(TinyGlmSpec spec)
    {
        using var dir = new TempDirectory();
        var checkpoint = new RandomGlmCheckpoint(spec, seed: spec.Layers * 10 + spec.KvHeads);
        string folder = ThudmChatGlmCheckpoint.Write(checkpoint, dir.File("chatglm"));
        string reference = checkpoint.WithFusedQkv().WriteGguf(dir.File("reference.gguf"), GgmlType.F32);
        string converted = dir.File("converted.gguf");
        var convert = GlmCli.Run("convert", folder, converted, "--type", "f32");
        Assert.True(convert.ExitCode == 0, convert.Stderr);
        using (var file = GgufFile.Open(converted))
            Assert.Equal("chatglm", file.Metadata.GetString("general.architecture"));

        var prompt = spec.RandomPrompt(40, seed: 2);
        var expected = LlamaCpp.Logits(reference, prompt, spec.Vocab, spec.Context);
        double folderError = LogitComparison.WorstRelativeError(GlmSharpRun.Logits(folder, prompt), expected, spec.Vocab);
        double convertedError = LogitComparison.WorstRelativeError(LlamaCpp.Logits(converted, prompt, spec.Vocab, spec.Context), expected, spec.Vocab);
        output.WriteLine($"{spec}: worst relative logit error {folderError:E2} (folder), {convertedError:E2} (converted GGUF in llama.cpp)");
        Assert.True(folderError <= 1e-3, $"{spec}: folder's worst relative logit error {folderError:E2} > 1e-3");
        Assert.True(convertedError <= 1e-3, $"{spec}: converted GGUF's worst relative logit error {convertedError:E2} > 1e-3");
        Assert.Equal(LlamaCpp.Greedy(reference, prompt[..6], 24, spec.Vocab, spec.Context), GlmSharpRun.Greedy(folder, prompt[..6], 24));
    }

    [Theory]
    [InlineData("rmsnorm", false, "rmsnorm false (LayerNorm instead of RMSNorm)")]
    [InlineData("multi_query_attention", false, "multi_query_attention false (q, k and v interleaved per head)")]
    [InlineData("add_bias_linear", true, "add_bias_linear true")]
    [InlineData("apply_residual_connection_post_layernorm", true, "apply_residual_connection_post_layernorm true")]
    [InlineData("post_layer_norm", false, "post_layer_norm false")]
    [InlineData("quantization_bit", 4, "quantization_bit 4")]
    [InlineData("pre_seq_len", 128, "pre_seq_len")]
    public void Config_Switches_That_Make_Another_Network_Are_Refused_By_Name(string key, object value, string named)
    {
        var spec = new TinyGlmSpec("glm", 160, 64, 1, 8, 2, 8, 96, 0.5, Bias: true, Tied: false);
        using var dir = new TempDirectory();
        string folder = ThudmChatGlmCheckpoint.Write(new RandomGlmCheckpoint(spec, seed: 1), dir.File("chatglm"),
            new Dictionary<string, object> { [key] = value });
        var e = Assert.Throws<UnsupportedModelException>(() => ModelLoader.Load(folder));
        Assert.Contains("config.json", e.Message);
        Assert.Contains(named, e.Message);
    }
}
