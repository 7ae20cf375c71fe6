using GlmSharp.Formats.Gguf;
using GlmSharp.Models;
using GlmSharp.Tensors;
using GlmSharp.Tests.Support;
using Xunit.Abstractions;

namespace GlmSharp.Tests.Oracle;

/// <summary>
/// Random-weight glm4 models written in Q5_K (every matrix) and in llama-quantize's Q5_K_M mix (Q5_K with Q6_K for
/// the LM head and some value and down projections), run by llama.cpp and by GlmSharp.
/// </summary>
[Trait("Oracle", "llama.cpp")]
public sealed class Q5KOracleTests(ITestOutputHelper output)
{
    /// <summary>
    /// Both engines quantize the activations of K-quant rows to the same Q8_K blocks and sum the same integers, so only
    /// the order of the float sums over super-blocks differs (measured 6.4e-7 for Q5_K, 4.6e-7 for Q5_K_M): a
    /// float-rounding bound, which a wrong fifth bit or scale would exceed by orders of magnitude. It holds for these
    /// seeds, where no activation lies one ulp from a rounding boundary of its 8-bit code; where one does, the code
    /// can differ by one between the engines and the logits by ~1e-2 (see Glm4MoeOracleTests).
    /// </summary>
    [Theory]
    [InlineData("q5_k")]
    [InlineData("q5_k_m")]
    public void Glm4_Logits_And_Greedy_Continuation_Match_LlamaCpp(string scheme)
    {
        var spec = new TinyGlmSpec("glm4", 160, 256, 3, 4, 2, 64, 512, 0.5, Bias: true, Tied: false);
        using var dir = new TempDirectory();
        string gguf = new RandomGlmCheckpoint(spec, seed: 17).WriteGguf(dir.File("model.gguf"), QuantizationScheme.Parse(scheme));
        using (var file = GgufFile.Open(gguf))
            Assert.Contains(file.Tensors, t => t.Type == GgmlType.Q5_K);

        var prompt = spec.RandomPrompt(40, seed: 6);
        double error = LogitComparison.WorstRelativeError(GlmSharpRun.Logits(gguf, prompt), LlamaCpp.Logits(gguf, prompt, spec.Vocab, spec.Context), spec.Vocab);
        output.WriteLine($"{scheme}: worst relative logit error {error:E2}");
        Assert.True(error <= 1e-4, $"{scheme}: worst relative logit error {error:E2} > 1e-4");

        var shortPrompt = prompt[..8];
        Assert.Equal(LlamaCpp.Greedy(gguf, shortPrompt, 32, spec.Vocab, spec.Context), GlmSharpRun.Greedy(gguf, shortPrompt, 32));
    }

    /// <summary>A Q5_K_M file written by llama.cpp's own quantizer loads and gives llama.cpp's logits (same bound as above).</summary>
    [Fact]
    public void Q5_K_M_File_Written_By_LlamaCpp_Gives_LlamaCpp_Logits()
    {
        var spec = new TinyGlmSpec("glm4", 160, 256, 3, 4, 2, 64, 512, 0.5, Bias: false, Tied: true);
        using var dir = new TempDirectory();
        string f32 = new RandomGlmCheckpoint(spec, seed: 23).WriteGguf(dir.File("f32.gguf"), GgmlType.F32);
        string gguf = dir.File("q5_k_m.gguf");
        QuantPresetModels.Quantize(f32, gguf, QuantPreset.Q5_K_M);
        var prompt = spec.RandomPrompt(24, seed: 2);
        double error = LogitComparison.WorstRelativeError(GlmSharpRun.Logits(gguf, prompt), LlamaCpp.Logits(gguf, prompt, spec.Vocab, spec.Context), spec.Vocab);
        output.WriteLine($"llama.cpp's Q5_K_M: worst relative logit error {error:E2}");
        Assert.True(error <= 1e-4, $"llama.cpp's Q5_K_M: worst relative logit error {error:E2} > 1e-4");
    }
}
