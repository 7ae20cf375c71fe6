using GlmSharp.Inference;
using GlmSharp.Models;
using GlmSharp.Tests.Support;
using Xunit.Abstractions;

namespace GlmSharp.Tests.Inference;

/// <summary>
/// Speculative decoding changes how fast tokens come, never which: greedy output equals the target's own greedy
/// output, and the acceptance rule leaves the target's distribution unchanged (a chi-square test).
/// </summary>
public sealed class SpeculativeDecodingTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void The_Acceptance_Rule_Leaves_The_Target_Distribution_Unchanged()
    {
        float[] target = [0.30f, 0.05f, 0.25f, 0.10f, 0.20f, 0.10f];
        float[] draft = [0.10f, 0.30f, 0.25f, 0.05f, 0.05f, 0.25f];
        var sampler = new Sampler(new SamplingOptions { Temperature = 1, TopK = 0, TopP = 1, MinP = 0, Seed = 7 }, target.Length);
        var residual = new float[target.Length];
        var counts = new int[target.Length];
        const int trials = 60_000;
        for (int t = 0; t < trials; t++)
        {
            int drafted = sampler.SampleFrom(draft);
            int kept = SpeculativeAcceptance.Accept(drafted, target, draft, sampler) ? drafted : SpeculativeAcceptance.Replace(target, draft, residual, sampler);
            counts[kept]++;
        }
        double chiSquare = counts.Select((n, i) => Math.Pow(n - trials * target[i], 2) / (trials * target[i])).Sum();
        output.WriteLine($"counts {string.Join(",", counts)}; chi-square {chiSquare:F2} (5 degrees of freedom; 20.5 at p = 0.001)");
        Assert.True(chiSquare < 20.5, $"chi-square {chiSquare:F2}: the kept tokens are not distributed as the target");

        var draftOnly = new int[target.Length];
        for (int t = 0; t < trials; t++) draftOnly[sampler.SampleFrom(draft)]++;
        double draftChiSquare = draftOnly.Select((n, i) => Math.Pow(n - trials * target[i], 2) / (trials * target[i])).Sum();
        Assert.True(draftChiSquare > 1000, $"the test cannot tell the draft's distribution from the target's (chi-square {draftChiSquare:F0})");
    }

    [Fact]
    public void Greedy_Acceptance_Keeps_Exactly_The_Targets_Argmax()
    {
        var sampler = new Sampler(SamplingOptions.Greedy, 4);
        float[] target = [0, 0, 1, 0], agreeing = [0, 0, 1, 0], other = [1, 0, 0, 0];
        Assert.True(SpeculativeAcceptance.Accept(2, target, agreeing, sampler));
        Assert.False(SpeculativeAcceptance.Accept(0, target, other, sampler));
        Assert.Equal(2, SpeculativeAcceptance.Replace(target, other, new float[4], sampler));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    [InlineData(7)]
    public void Greedy_Output_With_A_Draft_Model_Equals_The_Targets_Own(int draftTokens)
    {
        // The draft is the target rounded to Q4_0: it agrees often but not always, so steps keep some drafts and reject others.
        var (targetFolder, _, _) = TinyChatModel.Write(_dir.File($"target{draftTokens}"), seed: 17);
        using var target = ModelLoader.Load(targetFolder);
        string draftPath = _dir.File($"draft{draftTokens}.gguf");
        GgufExporter.Write(target.Architecture, target.Config, target.Model.Weights, vocabulary: null, draftPath, GlmSharp.Tensors.GgmlType.Q4_0, "draft");
        using var draft = ModelLoader.Load(draftPath);
        using var alone = new Generator(target, 128);
        using var speculative = new SpeculativeGenerator(target, draft, draftTokens, 128);
        var options = new GenerationOptions { MaxTokens = 40, Sampling = SamplingOptions.Greedy, StopTokenIds = [] };
        foreach (string text in new[] { "The quick brown fox", "春眠不觉晓", "x = f(y) + 1;", "Numbers like 12345", "A model of" })
        {
            var prompt = target.Tokenizer!.Encode(text);
            var expected = Tokens(alone.GenerateAsync(prompt, options));
            var actual = Tokens(speculative.GenerateAsync(prompt, options));
            Assert.Equal(expected, actual);
        }
        output.WriteLine($"k = {draftTokens}: acceptance {speculative.Stats.AcceptanceRate:P0}, {speculative.Stats.TokensPerStep:F2} tokens per target step");
        Assert.InRange(speculative.Stats.AcceptanceRate, 0.05, 0.999);
    }

    [Fact]
    public void A_Draft_That_Is_The_Target_Has_Every_Token_Accepted()
    {
        var (folder, _, _) = TinyChatModel.Write(_dir.File("same"), seed: 17);
        using var target = ModelLoader.Load(folder);
        using var draft = ModelLoader.Load(folder);
        using var speculative = new SpeculativeGenerator(target, draft, 4, 128);
        var options = new GenerationOptions { MaxTokens = 40, Sampling = SamplingOptions.Greedy, StopTokenIds = [] };
        var tokens = Tokens(speculative.GenerateAsync(target.Tokenizer!.Encode("The quick brown fox"), options));
        Assert.Equal(40, tokens.Length);
        Assert.Equal(1.0, speculative.Stats.AcceptanceRate);
        Assert.Equal(5.0, speculative.Stats.TokensPerStep);
    }

    [Fact]
    public void A_Draft_With_Another_Vocabulary_Is_Refused_Naming_Both_Models()
    {
        var (targetFolder, _, _) = TinyChatModel.Write(_dir.File("target"), seed: 17);
        string other = new RandomGlmCheckpoint(new TinyGlmSpec("glm4", 64, 32, 1, 2, 1, 16, 64, 0.5, Bias: true, Tied: false), seed: 1).WriteHuggingFace(_dir.File("other"));
        using var target = ModelLoader.Load(targetFolder);
        using var draft = ModelLoader.Load(other);
        var e = Assert.Throws<GlmSharp.Errors.UnsupportedModelException>(() => new SpeculativeGenerator(target, draft, 4, 128));
        Assert.Contains("share the target's vocabulary", e.Message);
    }

    private static int[] Tokens(IAsyncEnumerable<GenerationChunk> chunks) =>
        chunks.ToBlockingEnumerable().Where(c => c.TokenId is not null).Select(c => c.TokenId!.Value).ToArray();
}
