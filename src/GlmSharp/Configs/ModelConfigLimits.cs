using GlmSharp.Errors;

namespace GlmSharp.Configs;

/// <summary>
/// The ranges a model's hyper-parameters must lie in before anything is sized by them: array lengths, buffers, the
/// rotary tables and the kernels' stack buffers all take these values, so a file cannot reach them unchecked. The
/// bounds are generous (several times the largest GLM: GLM-5's 78 layers, 151,552-token vocabulary, 202,752-token
/// context) and only keep sizes computable and allocations sane.
/// </summary>
public static class ModelConfigLimits
{
    public const int MaxVocab = 1 << 24;
    public const int MaxWidth = 1 << 17;
    public const int MaxLayers = 1024;
    public const int MaxHeads = 1024;
    public const int MaxHeadDim = 4096;
    public const int MaxIntermediate = 1 << 20;
    public const int MaxContext = 1 << 24;
    public const int MaxExperts = 1 << 16;

    /// <summary>The router keeps one score per group on the stack (released GLM models use 1, DeepSeek-V3 8).</summary>
    public const int MaxExpertGroups = 1024;

    /// <summary>Throws a <see cref="ModelFormatException"/> naming the file, the key, the value and the allowed range.</summary>
    public static void Check(ModelConfig c, string origin)
    {
        var keys = c.Keys;
        InRange(c.VocabSize, 1, MaxVocab, keys.Vocab, origin);
        InRange(c.HiddenSize, 1, MaxWidth, keys.Hidden, origin);
        InRange(c.NumLayers, 1, MaxLayers, keys.Layers, origin);
        InRange(c.NumHeads, 1, MaxHeads, keys.Heads, origin);
        InRange(c.NumKvHeads, 1, c.NumHeads, keys.KvHeads, origin);
        if (c.NumHeads % c.NumKvHeads != 0)
            throw Fail(origin, $"{keys.KvHeads} {c.NumKvHeads} does not divide {keys.Heads} {c.NumHeads} (each kv head serves a whole group of query heads)");
        InRange(c.HeadDim, 2, MaxHeadDim, keys.HeadDim, origin);
        InRange(c.IntermediateSize, 1, MaxIntermediate, keys.Intermediate, origin);
        InRange(c.MaxPositions, 1, MaxContext, keys.Context, origin);
        if (!double.IsFinite(c.RmsNormEps) || c.RmsNormEps < 0 || c.RmsNormEps >= 1)
            throw Fail(origin, $"{keys.RmsEps} {c.RmsNormEps} is outside [0, 1)");
        // Frequencies are theta^(-2i/d): a base of 1 or less would not decrease them.
        if (!double.IsFinite(c.RopeTheta) || c.RopeTheta <= 1)
            throw Fail(origin, $"{keys.RopeTheta} gives a RoPE base of {c.RopeTheta}; it must be a number greater than 1");
        if (!double.IsFinite(c.PartialRotaryFactor) || c.PartialRotaryFactor <= 0 || c.PartialRotaryFactor > 1)
            throw Fail(origin, $"{keys.Rotary} gives a rotary fraction of {c.PartialRotaryFactor} of the head; it must be in (0, 1]");
        int rotary = c.RotaryDims;
        if (rotary < 2 || rotary % 2 != 0)
            throw Fail(origin, $"{keys.Rotary} gives {rotary} rotary dimensions of a {c.HeadDim}-wide head; they must be even, from 2 to {c.HeadDim}");
        foreach (int id in c.EosTokenIds)
            InRange(id, 0, c.VocabSize - 1, keys.EosIds, origin);
        if (c is IMoeConfig { Moe: var moe }) CheckExperts(moe, c, origin);
        // Every buffer of a step is rows × width; keep the widest within what one allocation can index.
        long widest = Math.Max(Math.Max((long)c.NumHeads * c.HeadDim, 2L * c.IntermediateSize), c.VocabSize);
        if (widest * 512 > int.MaxValue)
            throw Fail(origin, $"a row of {widest} values ({keys.Heads} × {keys.HeadDim}, 2 × {keys.Intermediate} or {keys.Vocab}) is too wide for 512-row steps");

    }

    /// <summary>The router's shape: its group count sizes a stack buffer of the CPU router, its expert counts the step's buffers.</summary>
    private static void CheckExperts(MoeShape moe, ModelConfig c, string origin)
    {
        InRange(moe.RoutedExperts, 1, MaxExperts, "n_routed_experts", origin);
        InRange(moe.ExpertsPerToken, 1, moe.RoutedExperts, "num_experts_per_tok", origin);
        InRange(moe.ExpertIntermediateSize, 1, MaxIntermediate, "moe_intermediate_size", origin);
        InRange(moe.SharedExperts, 0, MaxExperts, "n_shared_experts", origin);
        InRange((long)moe.SharedExperts * moe.ExpertIntermediateSize, 0, MaxIntermediate, "n_shared_experts × moe_intermediate_size", origin);
        InRange(moe.FirstDenseLayers, 0, c.NumLayers, "first_k_dense_replace", origin);
        InRange(moe.ExpertGroups, 1, Math.Min(moe.RoutedExperts, MaxExpertGroups), "n_group", origin);
        InRange(moe.TopkGroups, 1, moe.ExpertGroups, "topk_group", origin);
        if (moe.RoutedExperts % moe.ExpertGroups != 0 || (long)moe.TopkGroups * (moe.RoutedExperts / moe.ExpertGroups) < moe.ExpertsPerToken)
            throw Fail(origin, $"{moe.RoutedExperts} experts in n_group {moe.ExpertGroups} groups keeping topk_group {moe.TopkGroups} cannot supply num_experts_per_tok {moe.ExpertsPerToken}");
        if (!double.IsFinite(moe.RoutedScalingFactor) || moe.RoutedScalingFactor <= 0 || !float.IsFinite((float)moe.RoutedScalingFactor))
            throw Fail(origin, $"routed_scaling_factor {moe.RoutedScalingFactor} must be a positive number");
        if ((long)512 * moe.ExpertsPerToken * Math.Max(2L * moe.ExpertIntermediateSize, c.HiddenSize) > int.MaxValue)
            throw Fail(origin, $"num_experts_per_tok {moe.ExpertsPerToken} × moe_intermediate_size {moe.ExpertIntermediateSize} is too wide for 512-row steps");

    }

    private static void InRange(long value, long min, long max, string key, string origin)
    {
        if (value < min || value > max) throw Fail(origin, $"{key} {value} is outside {min}..{max}");
    }

    private static ModelFormatException Fail(string origin, string what) => new($"{origin}: {what}");
}
