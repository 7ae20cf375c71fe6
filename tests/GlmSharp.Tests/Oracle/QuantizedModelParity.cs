using GlmSharp.Tests.Support;
using Xunit.Abstractions;

namespace GlmSharp.Tests.Oracle;

/// <summary>
/// The check of a model whose matrices are all one quantized type against llama.cpp: a 24-token prompt's logits
/// position by position, held to a bound on the median position and one on the worst (an activation code rounded the
/// other way moves only the positions that see it; a wrong kernel moves all), then 32 greedy tokens after its first 8,
/// which run the one-token decode kernels and must match token for token.
/// </summary>
internal static class QuantizedModelParity
{
    public static void AssertMatchesLlamaCpp(ITestOutputHelper output, TinyGlmSpec spec, string gguf, string label, double medianBound, double worstBound)
    {
        var prompt = spec.RandomPrompt(24, seed: 3);
        var actual = GlmSharpRun.Logits(gguf, prompt);
        var expected = LlamaCpp.Logits(gguf, prompt, spec.Vocab, spec.Context);
        var errors = Enumerable.Range(0, prompt.Length)
            .Select(t => LogitComparison.WorstRelativeError(actual.AsSpan(t * spec.Vocab, spec.Vocab), expected.AsSpan(t * spec.Vocab, spec.Vocab), spec.Vocab))
            .Order().ToArray();
        double median = errors[errors.Length / 2], worst = errors[^1];
        output.WriteLine($"{spec.ModelType} {label}: relative logit error median {median:E2}, worst {worst:E2}");
        Assert.True(median <= medianBound, $"{spec.ModelType} {label}: median relative logit error {median:E2} > {medianBound:E0}");
        Assert.True(worst <= worstBound, $"{spec.ModelType} {label}: worst relative logit error {worst:E2} > {worstBound:E0}");

        var shortPrompt = prompt[..8];
        Assert.Equal(LlamaCpp.Greedy(gguf, shortPrompt, 32, spec.Vocab, spec.Context), GlmSharpRun.Greedy(gguf, shortPrompt, 32));
    }
}
