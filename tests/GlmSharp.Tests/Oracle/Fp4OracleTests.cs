using GlmSharp.Formats.Gguf;
using GlmSharp.Inference;
using GlmSharp.Kernels;
using GlmSharp.Models;
using GlmSharp.Tensors;
using GlmSharp.Tests.Support;
using Xunit.Abstractions;

namespace GlmSharp.Tests.Oracle;

/// <summary>
/// Tiny random glm4 models with every matrix in MXFP4 or NVFP4, written by our own writer (llama.cpp's quantizer
/// does not write these types for dense models) and run by llama.cpp and GlmSharp. Both engines quantize the
/// activations to the same 8-bit blocks and take exact integer dots per (sub-)block, so only the order of fp32
/// accumulation differs: the bound is a float-rounding one, as for Q8_0/Q4_0.
/// </summary>
[Trait("Oracle", "llama.cpp")]
public sealed class Fp4OracleTests(ITestOutputHelper output)
{
    // Every matrix input width (hidden 192, q width 8·24 = 192, intermediate 256) is a whole number of NVFP4 blocks.
    private static readonly TinyGlmSpec Spec = new("glm4", 160, 192, 2, 8, 2, 24, 256, 0.5, Bias: true, Tied: false);

    [Theory]
    [InlineData(GgmlType.MXFP4, 1e-5)]
    [InlineData(GgmlType.NVFP4, 1e-5)]
    public void Logits_And_Greedy_Continuation_Match_LlamaCpp(GgmlType type, double tolerance)
    {
        using var dir = new TempDirectory();
        string gguf = new RandomGlmCheckpoint(Spec, seed: 17).WriteGguf(dir.File("model.gguf"), type);
        using (var file = GgufFile.Open(gguf))
        {
            Assert.All(file.Tensors.Where(t => t.Shape.Length == 2), t => Assert.Equal(type, t.Type));
            Assert.All(file.Tensors.Where(t => t.Shape.Length == 1), t => Assert.Equal(GgmlType.F32, t.Type));
        }

        var prompt = Spec.RandomPrompt(24, seed: 3);
        var expected = LlamaCpp.Logits(gguf, prompt, Spec.Vocab, Spec.Context);
        float[] actual;
        using (var loaded = ModelLoader.Load(gguf))
        {
            using var session = loaded.Model.CreateSession(loaded.Config.MaxPositions, cacheType: KvCacheType.F32);
            actual = new float[prompt.Length * Spec.Vocab];
            loaded.Model.Forward(prompt, session, actual, LogitsFor.AllTokens);
        }
        double error = LogitComparison.WorstRelativeError(actual, expected, Spec.Vocab);
        output.WriteLine($"{type}: worst relative logit error {error:E2} (bound {tolerance:E0})");
        Assert.True(error <= tolerance, $"{type}: worst relative logit error {error:E2} > {tolerance:E0}");

        var shortPrompt = prompt[..8];
        Assert.Equal(LlamaCpp.Greedy(gguf, shortPrompt, 24, Spec.Vocab, Spec.Context), GlmSharpRun.Greedy(gguf, shortPrompt, 24));
    }

}
