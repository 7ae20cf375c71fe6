using GlmSharp.Errors;
using GlmSharp.Kernels;
using GlmSharp.Models;

namespace GlmSharp.Inference;

/// <summary>The outcome of <see cref="Perplexity.Measure"/>: mean negative log-likelihood (nats per token) and its exponential.</summary>
public sealed record PerplexityResult(double MeanNll, int Windows, int ScoredTokens)
{
    public double Value => Math.Exp(MeanNll);
}

/// <summary>
/// Perplexity by llama.cpp's <c>llama-perplexity</c> method: the tokens are cut into non-overlapping windows of
/// <c>context</c> tokens (a partial last window is dropped), each window is evaluated on its own from an empty cache,
/// and only the predictions in its second half are scored — positions context/2 … context−2 predicting the next token —
/// so that every scored token sees at least context/2 tokens before it. No token is replaced by a BOS: GLM tokenizers
/// add none to plain text.
/// </summary>
public static class Perplexity
{
    public static PerplexityResult Measure(CausalLm model, ReadOnlySpan<int> tokens, int context, KvCacheType cacheType = KvCacheType.F16)
    {
        if (context < 4) throw new ContextLimitException($"the perplexity window must hold at least 4 tokens, found {context}");
        if (context > model.Config.MaxPositions)
            throw new ContextLimitException($"the perplexity window of {context} tokens exceeds max_position_embeddings {model.Config.MaxPositions} of {model.Origin}");
        int windows = tokens.Length / context;
        if (windows == 0)
            throw new ContextLimitException($"the text has {tokens.Length} tokens, fewer than one window of {context}; use a smaller --context");

        int vocab = model.Config.VocabSize;
        var logits = new float[context * vocab];
        using var session = model.CreateSession(context, cacheType: cacheType);
        int first = context / 2;
        double total = 0;
        int scored = 0;
        for (int w = 0; w < windows; w++)
        {
            var window = tokens.Slice(w * context, context);
            session.Truncate(0);
            model.Forward(window, session, logits, LogitsFor.AllTokens);
            for (int position = first; position < context - 1; position++)
            {
                total += NegativeLogLikelihood(logits.AsSpan(position * vocab, vocab), window[position + 1]);
                scored++;
            }
        }
        return new PerplexityResult(total / scored, windows, scored);
    }

    /// <summary>−log softmax(logits)[target], in double so that long texts do not lose precision.</summary>
    public static double NegativeLogLikelihood(ReadOnlySpan<float> logits, int target)
    {
        float max = float.NegativeInfinity;
        foreach (float v in logits) max = Math.Max(max, v);
        double sum = 0;
        foreach (float v in logits) sum += Math.Exp(v - max);
        return Math.Log(sum) + max - logits[target];
    }
}
