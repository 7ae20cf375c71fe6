namespace GlmSharp.Inference;

/// <summary>A token and its log-probability.</summary>
public readonly record struct TokenLogprob(int TokenId, float Logprob);

/// <summary>
/// The model's log-probability of a drawn token and the most likely tokens at its position, from the raw logits: before
/// temperature, penalties and truncation, so they describe the model rather than the sampler (vLLM's default too).
/// </summary>
public sealed record TokenLogprobs(float Logprob, IReadOnlyList<TokenLogprob> Top)
{
    /// <summary>Most alternatives a request may ask for, as OpenAI's API allows.</summary>
    public const int MaxTop = 20;

    /// <param name="top">How many of the most likely tokens to list (most likely first, ties by lower id).</param>
    public static TokenLogprobs Of(ReadOnlySpan<float> logits, int chosen, int top)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(top, MaxTop);
        float max = float.NegativeInfinity;
        foreach (float logit in logits) max = MathF.Max(max, logit);
        double sum = 0;
        foreach (float logit in logits) sum += MathF.Exp(logit - max);
        float logSumExp = max + (float)Math.Log(sum);

        Span<int> best = stackalloc int[top];
        int count = 0;
        for (int id = 0; id < logits.Length; id++)
        {
            if (count == top && (top == 0 || logits[id] <= logits[best[count - 1]])) continue;
            int at = Math.Min(count, top - 1);
            while (at > 0 && logits[id] > logits[best[at - 1]])
            {
                best[at] = best[at - 1];
                at--;
            }
            best[at] = id;
            if (count < top) count++;
        }
        var alternatives = new TokenLogprob[count];
        for (int i = 0; i < count; i++) alternatives[i] = new TokenLogprob(best[i], logits[best[i]] - logSumExp);
        return new TokenLogprobs(logits[chosen] - logSumExp, alternatives);
    }
}
