namespace GlmSharp.Inference;

/// <summary>
/// Proposes the tokens a <see cref="SpeculativeGenerator"/> verifies. The generator keeps the history (prompt and
/// output); the target's cache holds all of it but its last token, which the next step feeds.
/// </summary>
public interface ISpeculativeDrafter : IDisposable
{
    /// <summary>The most tokens of history it can follow.</summary>
    int ContextLength { get; }

    /// <summary>Forgets everything: a new generation starts.</summary>
    void Reset();

    /// <summary>
    /// The target has just cached the <paramref name="rows"/> tokens before the last of <paramref name="history"/>;
    /// their final hidden states are <paramref name="hidden"/> ([rows, hidden size]).
    /// </summary>
    void Commit(IReadOnlyList<int> history, ReadOnlySpan<float> hidden, int rows);

    /// <summary>
    /// Up to <paramref name="k"/> tokens to follow <paramref name="history"/>, proposal i drawn by <paramref name="sampler"/>
    /// from <paramref name="probabilities"/>[i], which it fills; fewer, or none, when it cannot draft yet.
    /// <paramref name="history"/> is as it was when this returns.
    /// </summary>
    void Draft(int k, List<int> history, List<int> drafts, float[][] probabilities, Sampler sampler);
}
