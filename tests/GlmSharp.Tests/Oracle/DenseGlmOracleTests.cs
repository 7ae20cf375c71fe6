using GlmSharp.Formats.Safetensors;
using GlmSharp.Inference;
using GlmSharp.Models;
using GlmSharp.Tensors;
using GlmSharp.Tests.Support;
using Xunit.Abstractions;

namespace GlmSharp.Tests.Oracle;

/// <summary>
/// glm (llama.cpp "chatglm") and glm4 models with random weights, written by our GGUF writer and run by
/// llama.cpp and by GlmSharp: logits of every position and greedy continuations must agree.
/// </summary>
public sealed class DenseGlmOracleTests(ITestOutputHelper output)
{
    public static TheoryData<TinyGlmSpec> Shapes()
    {
        return
        [
            new TinyGlmSpec("glm4", 160, 64, 2, 4, 4, 16, 96, 0.5, Bias: true, Tied: false),   // MHA (GQA ratio 1), partial rotary
            new TinyGlmSpec("glm4", 192, 96, 2, 8, 2, 16, 128, 0.5, Bias: false, Tied: true),  // GQA 4, q width 128 ≠ hidden, tied
            new TinyGlmSpec("glm4", 160, 64, 2, 8, 1, 8, 96, 1.0, Bias: true, Tied: true),     // GQA 8, full rotary
            new TinyGlmSpec("glm4", 150, 67, 2, 4, 2, 16, 80, 0.25, Bias: true, Tied: false),  // odd hidden size
            // llama.cpp's chatglm graph requires heads·head_dim = hidden (true of every released GLM / GLM-Edge),
            // so an odd hidden size cannot be expressed there; a hidden size that is not a power of two stands in.
            new TinyGlmSpec("glm", 160, 64, 2, 4, 4, 16, 96, 0.5, Bias: true, Tied: false),    // MHA, partial rotary
            new TinyGlmSpec("glm", 192, 96, 2, 8, 2, 12, 128, 0.5, Bias: false, Tied: true),   // GQA 4, tied
            new TinyGlmSpec("glm", 160, 64, 2, 8, 1, 8, 96, 1.0, Bias: false, Tied: true),     // GQA 8, full rotary, no bias, tied: GLM-Edge
            new TinyGlmSpec("glm", 150, 80, 2, 10, 5, 8, 80, 0.25, Bias: true, Tied: false),   // GQA 2, hidden 80
        ];
    }

    private static int[] Prompt(TinyGlmSpec spec, int length, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, length).Select(_ => random.Next(spec.Vocab)).ToArray();
    }

    private static float[] OurLogits(string path, int[] tokens)
    {
        using var loaded = ModelLoader.Load(path);
        var session = loaded.Model.CreateSession(loaded.Config.MaxPositions);
        var logits = new float[tokens.Length * loaded.Config.VocabSize];
        loaded.Model.Forward(tokens, session, logits, LogitsFor.AllTokens);
        return logits;
    }

    private static int[] OurGreedy(string path, int[] prompt, int count)
    {
        using var loaded = ModelLoader.Load(path);
        var session = loaded.Model.CreateSession(loaded.Config.MaxPositions);
        var logits = new float[loaded.Config.VocabSize];
        var output = new List<int>();
        loaded.Model.Forward(prompt, session, logits);
        for (int i = 0; i < count; i++)
        {
            int next = Sampler.ArgMax(logits);
            output.Add(next);
            loaded.Model.Forward([next], session, logits);
        }
        return [.. output];
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void F32_Logits_And_Greedy_Continuation_Match_LlamaCpp(TinyGlmSpec spec)
    {
        using var dir = new TempDirectory();
        var checkpoint = new RandomGlmCheckpoint(spec, seed: spec.Hidden * 1000 + spec.Heads * 10 + spec.KvHeads);
        string gguf = checkpoint.WriteGguf(dir.File("model.gguf"), GgmlType.F32);
        var prompt = Prompt(spec, 70, seed: 7);

        var expected = LlamaCpp.Logits(gguf, prompt, spec.Vocab, spec.Context);
        var actual = OurLogits(gguf, prompt);
        double error = LogitComparison.WorstRelativeError(actual, expected, spec.Vocab);
        output.WriteLine($"{spec}: worst relative logit error {error:E2}");
        Assert.True(error <= 1e-3, $"worst relative logit error {error:E2} > 1e-3");

        var shortPrompt = prompt[..8];
        Assert.Equal(LlamaCpp.Greedy(gguf, shortPrompt, 32, spec.Vocab, spec.Context), OurGreedy(gguf, shortPrompt, 32));
    }

    /// <summary>
    /// llama.cpp multiplies F16/BF16 weights with activations rounded to F16/BF16; GlmSharp keeps those activations
    /// in fp32, so the bounds cover that rounding: F16 keeps 11 significant bits (relative error ≤ 2⁻¹¹ per product),
    /// BF16 8 bits (≤ 2⁻⁸), compounded over two layers and the head. For Q8_0/Q4_0 both engines quantize the
    /// activations to the same 8-bit blocks and take exact integer dot products, so only the order of the fp32
    /// accumulation differs: a float-rounding bound.
    /// </summary>
    [Theory]
    [InlineData(GgmlType.F16, 1e-2)]
    [InlineData(GgmlType.BF16, 3e-2)]
    [InlineData(GgmlType.Q8_0, 1e-4)]
    [InlineData(GgmlType.Q4_0, 1e-4)]
    public void Quantized_Logits_Match_LlamaCpp_Within_Activation_Rounding(GgmlType type, double tolerance)
    {
        foreach (var modelType in new[] { "glm4", "glm" })
        {
            var spec = new TinyGlmSpec(modelType, 160, 64, 2, 8, 2, 8, 96, 0.5, Bias: true, Tied: false);
            using var dir = new TempDirectory();
            string gguf = new RandomGlmCheckpoint(spec, seed: 11).WriteGguf(dir.File("model.gguf"), type);
            var prompt = Prompt(spec, 24, seed: 3);
            var expected = LlamaCpp.Logits(gguf, prompt, spec.Vocab, spec.Context);
            var actual = OurLogits(gguf, prompt);
            double error = LogitComparison.WorstRelativeError(actual, expected, spec.Vocab);
            output.WriteLine($"{modelType} {type}: worst relative logit error {error:E2} (bound {tolerance:E0})");
            Assert.True(error <= tolerance, $"{modelType} {type}: worst relative logit error {error:E2} > {tolerance:E0}");
        }
    }

    [Theory]
    [InlineData(SafetensorsDtype.F16, GgmlType.F16)]
    [InlineData(SafetensorsDtype.BF16, GgmlType.BF16)]
    public void Half_Precision_Safetensors_Load_Like_The_Same_Values_In_F32(SafetensorsDtype stored, GgmlType sameRounding)
    {
        var spec = new TinyGlmSpec("glm4", 160, 64, 2, 8, 2, 8, 96, 0.5, Bias: true, Tied: false);
        using var dir = new TempDirectory();
        var checkpoint = new RandomGlmCheckpoint(spec, seed: 21).RoundedTo(sameRounding);
        string hf = checkpoint.WriteHuggingFace(dir.File("hf"), stored);
        string gguf = checkpoint.WriteGguf(dir.File("model.gguf"), GgmlType.F32);
        var prompt = Prompt(spec, 20, seed: 4);
        double error = LogitComparison.WorstRelativeError(OurLogits(hf, prompt), OurLogits(gguf, prompt), spec.Vocab);
        Assert.True(error <= 1e-5, $"{stored}: relative error {error:E2}");
    }

    [Fact]
    public void HuggingFace_Checkpoint_Gives_The_Same_Logits_As_The_Gguf_Of_The_Same_Weights()
    {
        foreach (var modelType in new[] { "glm4", "glm" })
        {
            var spec = new TinyGlmSpec(modelType, 160, 64, 2, 8, 2, 8, 96, 0.5, Bias: true, Tied: modelType == "glm");
            using var dir = new TempDirectory();
            var checkpoint = new RandomGlmCheckpoint(spec, seed: 5);
            string gguf = checkpoint.WriteGguf(dir.File("model.gguf"), GgmlType.F32);
            string hf = checkpoint.WriteHuggingFace(dir.File("hf"));
            var prompt = Prompt(spec, 20, seed: 9);
            double error = LogitComparison.WorstRelativeError(OurLogits(hf, prompt), OurLogits(gguf, prompt), spec.Vocab);
            Assert.True(error <= 1e-5, $"{modelType}: HF vs GGUF relative error {error:E2}");
        }
    }
}
