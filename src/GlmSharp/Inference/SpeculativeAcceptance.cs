namespace GlmSharp.Inference;

/// <summary>
/// The acceptance rule of speculative sampling (Leviathan et al. 2023; Chen et al. 2023): a token d drawn from the
/// draft's distribution q is kept with probability min(1, p(d) / q(d)) under the target's p; when it is rejected, the
/// replacement is drawn from the residual max(0, p − q), renormalised. The kept or replacing token is then distributed
/// exactly as p. With greedy decoding both are one-hot, so this keeps d exactly when it is the target's argmax and
/// otherwise replaces it with that argmax.
/// </summary>
public static class SpeculativeAcceptance
{
    /// <summary>Whether the drafted token stands, given the target's and the draft's distributions at its position.</summary>
    public static bool Accept(int drafted, ReadOnlySpan<float> target, ReadOnlySpan<float> draft, Sampler sampler)
    {
        float p = target[drafted], q = draft[drafted];
        if (p >= q) return true;
        return sampler.Uniform() * q < p;
    }

    /// <summary>The token that replaces a rejected draft: drawn from max(0, p − q), or from p where that is empty.</summary>
    public static int Replace(ReadOnlySpan<float> target, ReadOnlySpan<float> draft, Span<float> residual, Sampler sampler)
    {
        bool any = false;
        for (int i = 0; i < target.Length; i++)
        {
            residual[i] = Math.Max(0, target[i] - draft[i]);
            any |= residual[i] > 0;
        }
        return sampler.SampleFrom(any ? residual : target);
    }
}
