using GlmSharp.Errors;
using GlmSharp.Formats.Gguf;
using GlmSharp.Formats.Safetensors;
using GlmSharp.Inference;
using GlmSharp.Kernels;
using GlmSharp.Models;
using GlmSharp.Tensors;
using GlmSharp.Tests.Support;
using Xunit.Abstractions;

namespace GlmSharp.Tests.Oracle;

/// <summary>
/// A Hugging Face FP8 checkpoint (F8_E4M3 weights with 128×128 block scales) against llama.cpp running an F32 GGUF
/// of the real weights, which the test computes by the OCP definition (value × scale), not by our codec. Both
/// engines then multiply the same fp32 weights with fp32 activations.
/// </summary>
[Trait("Oracle", "llama.cpp")]
public sealed class Fp8OracleTests(ITestOutputHelper output)
{
    // Hidden 192 = one full and one partial 128-column block; k/v have 48 rows, a partial row block.
    private static readonly TinyGlmSpec Spec = new("glm4", 160, 192, 2, 8, 2, 24, 256, 0.5, Bias: true, Tied: false);

    [Theory]
    [InlineData(SafetensorsDtype.F32)]
    [InlineData(SafetensorsDtype.BF16)]
    public void Fp8_Checkpoint_Gives_LlamaCpps_Logits_For_The_Dequantized_Weights(SafetensorsDtype scaleType)
    {
        using var dir = new TempDirectory();
        var checkpoint = new RandomGlmCheckpoint(Spec, seed: 23);
        var fp8 = new Fp8HfCheckpoint(checkpoint) { ScaleType = scaleType };
        string hf = fp8.Write(dir.File("hf-fp8"));
        Assert.Equal(12, fp8.Dequantized.Count);
        string gguf = checkpoint.WithValues(fp8.Dequantized).WriteGguf(dir.File("reference.gguf"), GgmlType.F32);

        using (var loaded = ModelLoader.Load(hf))
        {
            Assert.True(loaded.Model.Weights.TryGet("model.layers.0.self_attn.q_proj.weight", out var q));
            Assert.Equal(GgmlType.F8_E4M3, q.Type);
            Assert.NotNull(q.Scales);
        }

        var prompt = Spec.RandomPrompt(24, seed: 5);
        var expected = LlamaCpp.Logits(gguf, prompt, Spec.Vocab, Spec.Context);
        double error = LogitComparison.WorstRelativeError(GlmSharpRun.Logits(hf, prompt), expected, Spec.Vocab);
        output.WriteLine($"FP8 ({scaleType} scales): worst relative logit error {error:E2}");
        Assert.True(error <= 1e-4, $"worst relative logit error {error:E2} > 1e-4");

        var shortPrompt = prompt[..8];
        Assert.Equal(LlamaCpp.Greedy(gguf, shortPrompt, 24, Spec.Vocab, Spec.Context), GlmSharpRun.Greedy(hf, shortPrompt, 24));
    }

    /// <summary>`glm convert` without --type writes Q8_0 for an FP8 checkpoint: byte for byte the Q8_0 GGUF of the
    /// closed-form real weights, so the block scales were applied before re-quantizing.</summary>
    [Fact]
    public unsafe void Convert_Of_An_Fp8_Checkpoint_Writes_Q8_0_Of_The_Real_Weights()
    {
        using var dir = new TempDirectory();
        var checkpoint = new RandomGlmCheckpoint(Spec, seed: 29);
        var fp8 = new Fp8HfCheckpoint(checkpoint);
        string hf = fp8.Write(dir.File("hf-fp8"));
        string converted = dir.File("converted.gguf");
        var result = GlmCli.Run("convert", hf, converted);
        Assert.True(result.ExitCode == 0, result.Stderr);
        string reference = checkpoint.WithValues(fp8.Dequantized).WriteGguf(dir.File("reference.gguf"), GgmlType.Q8_0);

        using var ours = GgufFile.Open(converted);
        using var theirs = GgufFile.Open(reference);
        Assert.Equal(theirs.Tensors.Select(t => t.Name), ours.Tensors.Select(t => t.Name));
        foreach (var info in theirs.Tensors)
        {
            var a = ours.GetTensor(info.Name);
            var b = theirs.GetTensor(info.Name);
            Assert.Equal(b.Type, a.Type);
            Assert.True(new ReadOnlySpan<byte>(a.Data, (int)a.ByteLength).SequenceEqual(new ReadOnlySpan<byte>(b.Data, (int)b.ByteLength)),
                $"tensor {info.Name} differs");
        }
        Assert.Contains(ours.Tensors, t => t.Type == GgmlType.Q8_0);
    }

    [Fact]
    public void Missing_Scale_Tensor_Is_A_Format_Error_Naming_It()
    {
        using var dir = new TempDirectory();
        const string weight = "model.layers.1.mlp.down_proj.weight";
        string hf = new Fp8HfCheckpoint(new RandomGlmCheckpoint(Spec, seed: 1)) { OmitScaleOf = weight }.Write(dir.File("hf"));
        var e = Assert.Throws<ModelFormatException>(() => ModelLoader.Load(hf).Dispose());
        Assert.Contains(weight + "_scale_inv", e.Message);
        Assert.Contains("missing", e.Message);
    }

    [Fact]
    public void Mis_Shaped_Scale_Tensor_Is_A_Format_Error_With_Both_Shapes()
    {
        using var dir = new TempDirectory();
        const string weight = "model.layers.0.self_attn.k_proj.weight";
        string hf = new Fp8HfCheckpoint(new RandomGlmCheckpoint(Spec, seed: 1)) { MisshapeScaleOf = weight }.Write(dir.File("hf"));
        var e = Assert.Throws<ModelFormatException>(() => ModelLoader.Load(hf).Dispose());
        Assert.Contains(weight + "_scale_inv", e.Message);
        Assert.Contains("[1,3]", e.Message);
        Assert.Contains("expected [1,2]", e.Message);
    }

    [Fact]
    public void Fp8_Weights_Without_Quantization_Config_Are_A_Format_Error()
    {
        using var dir = new TempDirectory();
        string hf = new Fp8HfCheckpoint(new RandomGlmCheckpoint(Spec, seed: 1)) { WriteQuantizationConfig = false }.Write(dir.File("hf"));
        var e = Assert.Throws<ModelFormatException>(() => ModelLoader.Load(hf).Dispose());
        Assert.Contains("quantization_config", e.Message);
        Assert.Contains("F8_E4M3", e.Message);
    }

    [Theory]
    [InlineData("""{"quant_method": "gptq", "bits": 4}""", "quant_method 'gptq'")]
    [InlineData("""{"quant_method": "fp8", "fmt": "e5m2", "weight_block_size": [128, 128]}""", "fmt 'e5m2'")]
    public void Other_Quantization_Methods_Are_Refused_By_Name(string quantizationConfig, string named)
    {
        var json = Configs.ConfigJson.Parse($$"""{"quantization_config": {{quantizationConfig}}}""", "config.json");
        var e = Assert.Throws<UnsupportedModelException>(() => Configs.Fp8Quantization.FromConfig(json));
        Assert.Contains(named, e.Message);
    }

    [Theory]
    [InlineData("""{"quant_method": "fp8", "weight_block_size": [128]}""")]
    [InlineData("""{"quant_method": "fp8", "weight_block_size": [0, 128]}""")]
    [InlineData("""{"quant_method": "fp8"}""")]
    public void Bad_Block_Size_Is_A_Format_Error_Naming_The_Field(string quantizationConfig)
    {
        var json = Configs.ConfigJson.Parse($$"""{"quantization_config": {{quantizationConfig}}}""", "config.json");
        var e = Assert.Throws<ModelFormatException>(() => Configs.Fp8Quantization.FromConfig(json));
        Assert.Contains("weight_block_size", e.Message);
    }
}
