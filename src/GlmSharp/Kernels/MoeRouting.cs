namespace GlmSharp.Kernels;

/// <summary>How router logits become expert scores.</summary>
public enum ExpertScoring
{
    /// <summary>softmax over all experts (Mixtral, DeepSeek-V2).</summary>
    Softmax,

    /// <summary>an independent sigmoid per expert (DeepSeek-V3, GLM-4.5 and later).</summary>
    Sigmoid,
}

/// <summary>
/// A mixture-of-experts router: each row's logits over <see cref="Experts"/> experts become scores, the
/// <see cref="ExpertsPerRow"/> best are chosen, and their scores become mixing weights.
/// DeepSeek-V3-style routing (GLM-4.5's "noaux_tc"): a per-expert <see cref="SelectionBias"/> (e_score_correction_bias)
/// is added for choosing only, never to the weights; experts may be grouped, and only the <see cref="GroupsKept"/>
/// groups whose two best biased scores sum highest take part; the chosen scores are then normalised to sum 1 when
/// <see cref="NormalizeWeights"/> (norm_topk_prob) and multiplied by <see cref="WeightScale"/> (routed_scaling_factor).
/// </summary>
public sealed record MoeRouting(int Experts, int ExpertsPerRow, ExpertScoring Scoring)
{
    public float[]? SelectionBias { get; init; }
    public int Groups { get; init; } = 1;
    public int GroupsKept { get; init; } = 1;
    public bool NormalizeWeights { get; init; } = true;
    public float WeightScale { get; init; } = 1f;

    public void Validate()
    {
        if (Experts < 1 || ExpertsPerRow < 1 || ExpertsPerRow > Experts)
            throw new ArgumentException($"a router of {Experts} experts cannot choose {ExpertsPerRow} per row");
        if (Groups < 1 || Experts % Groups != 0 || GroupsKept < 1 || GroupsKept > Groups || GroupsKept * (Experts / Groups) < ExpertsPerRow)
            throw new ArgumentException($"{Experts} experts in {Groups} groups keeping {GroupsKept} cannot supply {ExpertsPerRow} experts per row");
        if (SelectionBias is not null && SelectionBias.Length != Experts)
            throw new ArgumentException($"the selection bias has {SelectionBias.Length} values for {Experts} experts");
    }
}
