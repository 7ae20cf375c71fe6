using GlmSharp.Kernels;
using GlmSharp.Tests.Support;
using Xunit.Abstractions;

namespace GlmSharp.Tests.Oracle;

/// <summary>
/// An F16 or Q8_0 KV cache against llama.cpp's cache of the same type: GlmSharp's logits within the bound, and clearly
/// closer to llama.cpp's than an F32 cache gets them, so that the comparison tells a cache that rounds as llama.cpp's
/// from one that does not round at all.
/// </summary>
internal static class ReducedPrecisionCache
{
    public static void AssertMatchesLlamaCpp(ITestOutputHelper output, string gguf, int[] prompt, int vocab, int context, KvCacheType cache, double tolerance)
    {
        var expected = LlamaCpp.Logits(gguf, prompt, vocab, context, cache);
        double error = LogitComparison.WorstRelativeError(GlmSharpRun.Logits(gguf, prompt, cache), expected, vocab);
        double unrounded = LogitComparison.WorstRelativeError(GlmSharpRun.Logits(gguf, prompt, KvCacheType.F32), expected, vocab);
        output.WriteLine($"{cache}: worst relative logit error {error:E2} (bound {tolerance:G2}); with an F32 cache {unrounded:E2}");
        Assert.True(error <= tolerance, $"{cache}: worst relative logit error {error:E2} > {tolerance:G2}");
        Assert.True(error <= 0.6 * unrounded, $"{cache}: error {error:E2} is not clearly below the F32 cache's {unrounded:E2}");
    }
}
