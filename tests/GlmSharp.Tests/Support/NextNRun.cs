using GlmSharp.Kernels;
using GlmSharp.Models;

namespace GlmSharp.Tests.Support;

/// <summary>A model's multi-token-prediction layer run over rows of (token, hidden state), as the drafter feeds it, with an F32 cache.</summary>
public static class NextNRun
{
    /// <summary>
    /// Every row's logits ([rows, vocab]) from two calls split at <paramref name="split"/>, so that the second reads the
    /// cache the first wrote, and the last row's output (the hidden state a chained draft goes on from).
    /// </summary>
    public static (float[] Logits, float[] Last) Logits(MtpLayer layer, int[] tokens, float[] hidden, int split, int vocab, int context)
    {
        int rows = tokens.Length, h = hidden.Length / rows;
        var logits = new float[rows * vocab];
        var last = new float[h];
        using var session = layer.CreateSession(context, KvCacheType.F32);
        layer.Forward(tokens[..split], hidden.AsSpan(0, split * h), session, logits.AsSpan(0, split * vocab), LogitsFor.AllTokens);
        layer.Forward(tokens[split..], hidden.AsSpan(split * h), session, logits.AsSpan(split * vocab), LogitsFor.AllTokens, last);
        if (session.Length != rows) throw new InvalidOperationException($"the layer holds {session.Length} rows after {rows}");
        return (logits, last);
    }

    /// <summary>
    /// The layer's logits for rows 0 … n−2 of <paramref name="tokens"/> as drafting computes them: row p takes the main
    /// model's own final hidden state at position p and token p + 1.
    /// </summary>
    public static float[] OnTheModelsHiddenStates(LoadedModel loaded, int[] tokens, int context)
    {
        var c = loaded.Config;
        var hidden = new float[tokens.Length * c.HiddenSize];
        using (var session = loaded.Model.CreateSession(context, cacheType: KvCacheType.F32))
            loaded.Model.Forward(tokens, session, new float[tokens.Length * c.VocabSize], LogitsFor.AllTokens, hidden);
        int rows = tokens.Length - 1;
        return Logits(loaded.Model.NextN!, tokens[1..], hidden[..(rows * c.HiddenSize)], rows / 2, c.VocabSize, context).Logits;
    }
}
