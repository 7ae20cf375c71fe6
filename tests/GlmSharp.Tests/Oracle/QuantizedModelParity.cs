using GlmSharp.Tests.Support;
using Xunit.Abstractions;

namespace GlmSharp.Tests.Oracle;

/// <summary>
/// The check of a quantized model against llama.cpp: a 24-token prompt's logits position by position, a tight bound
/// held by a share of the positions (the median by default) and a loose one by the worst (an activation code rounded
/// the other way moves only the positions that see it; a wrong kernel moves all), then 32 greedy tokens after its
/// first 8, which run the one-token decode kernels and must match token for token.
/// </summary>
internal static class QuantizedModelParity
{
    public static void AssertMatchesLlamaCpp(ITestOutputHelper output, TinyGlmSpec spec, string gguf, string label, double cleanBound, double worstBound,
        double cleanShare = 0.5)
    {
        var prompt = spec.RandomPrompt(24, seed: 3);
        var actual = GlmSharpRun.Logits(gguf, prompt);
        var expected = LlamaCpp.Logits(gguf, prompt, spec.Vocab, spec.Context);
        var errors = Enumerable.Range(0, prompt.Length)
            .Select(t => LogitComparison.WorstRelativeError(actual.AsSpan(t * spec.Vocab, spec.Vocab), expected.AsSpan(t * spec.Vocab, spec.Vocab), spec.Vocab))
            .Order().ToArray();
        double clean = errors[(int)(errors.Length * cleanShare)], worst = errors[^1];
        output.WriteLine($"{spec.ModelType} {label}: relative logit error at the {cleanShare:P0} point {clean:E2}, worst {worst:E2}");
        Assert.True(clean <= cleanBound, $"{spec.ModelType} {label}: relative logit error {clean:E2} > {cleanBound:E0} at the {cleanShare:P0} point");
        Assert.True(worst <= worstBound, $"{spec.ModelType} {label}: worst relative logit error {worst:E2} > {worstBound:E0}");

        var shortPrompt = prompt[..8];
        Assert.Equal(LlamaCpp.Greedy(gguf, shortPrompt, 32, spec.Vocab, spec.Context), GlmSharpRun.Greedy(gguf, shortPrompt, 32));
    }
}
