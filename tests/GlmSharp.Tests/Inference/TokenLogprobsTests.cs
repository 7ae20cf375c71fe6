using GlmSharp.Inference;

namespace GlmSharp.Tests.Inference;

/// <summary>Log-probabilities from logits, in closed form: log-softmax of the drawn token and the most likely ones in order.</summary>
public sealed class TokenLogprobsTests
{
    [Fact]
    public void The_Drawn_Token_And_The_Most_Likely_Ones_Get_Their_Log_Softmax()
    {
        float[] logits = [1f, 2f, 3f, 3f, -50f];
        double logSumExp = Math.Log(Math.Exp(1) + Math.Exp(2) + 2 * Math.Exp(3) + Math.Exp(-50));

        var scores = TokenLogprobs.Of(logits, chosen: 0, top: 3);

        Assert.Equal(1 - logSumExp, scores.Logprob, 5);
        Assert.Equal([2, 3, 1], scores.Top.Select(t => t.TokenId));
        Assert.Equal(3 - logSumExp, scores.Top[0].Logprob, 5);
        Assert.Equal(2 - logSumExp, scores.Top[2].Logprob, 5);
    }

    [Fact]
    public void Probabilities_Sum_To_One_Over_The_Vocabulary()
    {
        var random = new Random(3);
        var logits = Enumerable.Range(0, 5000).Select(_ => (float)(random.NextDouble() * 40 - 20)).ToArray();
        var all = TokenLogprobs.Of(logits, chosen: 7, top: TokenLogprobs.MaxTop);
        double total = Enumerable.Range(0, logits.Length).Sum(id => Math.Exp(TokenLogprobs.Of(logits, id, 0).Logprob));
        Assert.Equal(1.0, total, 4);
        Assert.Equal(logits.Select((l, id) => (l, id)).OrderByDescending(p => p.l).Take(TokenLogprobs.MaxTop).Select(p => p.id), all.Top.Select(t => t.TokenId));
    }

    [Fact]
    public void No_Alternatives_Asked_Gives_Only_The_Drawn_Token()
    {
        var scores = TokenLogprobs.Of([0f, 0f], chosen: 1, top: 0);
        Assert.Empty(scores.Top);
        Assert.Equal(MathF.Log(0.5f), scores.Logprob, 6);
    }
}
