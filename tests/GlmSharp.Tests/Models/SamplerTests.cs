using GlmSharp.Inference;

namespace GlmSharp.Tests.Models;

public sealed class SamplerTests
{
    [Fact]
    public void Temperature_Zero_Picks_The_Largest_Logit()
    {
        var sampler = new Sampler(SamplingOptions.Greedy, 4);
        Assert.Equal(2, sampler.Sample([0.1f, 0.5f, 3f, -1f], []));
    }

    [Fact]
    public void Top_K_One_Always_Picks_The_Largest_Logit_Whatever_The_Temperature()
    {
        var sampler = new Sampler(new SamplingOptions { Temperature = 5, TopK = 1, Seed = 1 }, 5);
        for (int i = 0; i < 50; i++) Assert.Equal(3, sampler.Sample([1f, 2f, 0f, 2.5f, 1f], []));
    }

    [Fact]
    public void Min_P_Drops_Tokens_Less_Likely_Than_The_Fraction_Of_The_Best()
    {
        // probabilities ∝ e^0, e^-3, e^-3: with min-p 0.1 the two tail tokens (e^-3 ≈ 0.05 of the best) go.
        var sampler = new Sampler(new SamplingOptions { Temperature = 1, TopK = 0, TopP = 1, MinP = 0.1f, Seed = 3 }, 3);
        for (int i = 0; i < 50; i++) Assert.Equal(0, sampler.Sample([0f, -3f, -3f], []));
    }

    [Fact]
    public void Top_P_Keeps_The_Smallest_Prefix_Reaching_The_Mass()
    {
        // token 0 carries e^2/(e^2+2) ≈ 0.79 of the mass; top-p 0.7 keeps it alone.
        var sampler = new Sampler(new SamplingOptions { Temperature = 1, TopK = 0, TopP = 0.7f, MinP = 0, Seed = 4 }, 3);
        for (int i = 0; i < 50; i++) Assert.Equal(0, sampler.Sample([2f, 0f, 0f], []));
    }

    [Fact]
    public void Same_Seed_Gives_The_Same_Draws()
    {
        var options = new SamplingOptions { Temperature = 1, TopK = 0, TopP = 1, MinP = 0, Seed = 42 };
        float[] logits = [0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f];
        var a = new Sampler(options, 6);
        var b = new Sampler(options, 6);
        var drawsA = Enumerable.Range(0, 40).Select(_ => a.Sample((float[])logits.Clone(), [])).ToArray();
        var drawsB = Enumerable.Range(0, 40).Select(_ => b.Sample((float[])logits.Clone(), [])).ToArray();
        Assert.Equal(drawsA, drawsB);
        Assert.True(drawsA.Distinct().Count() > 1, "a temperature-1 draw over six close logits should vary");
    }

    [Fact]
    public void Repetition_Penalty_Divides_Positive_And_Multiplies_Negative_Logits_Of_Seen_Tokens()
    {
        var sampler = new Sampler(SamplingOptions.Greedy with { RepetitionPenalty = 2 }, 3);
        float[] logits = [4f, 3f, -1f];
        sampler.Sample(logits, [0, 2]);
        Assert.Equal([2f, 3f, -2f], logits);
    }

    [Fact]
    public void Frequency_And_Presence_Penalties_Subtract_Per_Occurrence_And_Once()
    {
        var sampler = new Sampler(SamplingOptions.Greedy with { FrequencyPenalty = 0.5f, PresencePenalty = 1f }, 3);
        float[] logits = [4f, 3f, 2f];
        sampler.Sample(logits, [0, 0, 0, 1]);
        Assert.Equal([4f - 1.5f - 1f, 3f - 0.5f - 1f, 2f], logits);
    }

    [Fact]
    public void Invalid_Options_Are_Rejected_With_The_Option_Named()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new Sampler(new SamplingOptions { TopP = 0 }, 3));
        Assert.Contains("TopP", e.Message);
    }
}
