using GlmSharp.Configs;
using GlmSharp.Errors;

namespace GlmSharp.Models;

/// <summary>
/// llama.cpp's <c>{arch}.expert_*</c> and <c>leading_dense_block_count</c> keys of a DeepSeek-style mixture of experts
/// (glm4moe, deepseek2), read into and written from a <see cref="MoeShape"/>. GLM routes with sigmoid scores
/// (expert_gating_func 2); other gating is refused.
/// </summary>
public static class MoeGgufKeys
{
    public const int SigmoidGating = 2;

    public static MoeShape Read(GgufModelMetadata gguf)
    {
        if (gguf.OptInt("expert_gating_func") is { } gating and not SigmoidGating)
            throw new UnsupportedModelException($"{gguf.Origin}: {gguf.Architecture}.expert_gating_func {gating} is not supported; GLM routes with sigmoid scores ({SigmoidGating})");
        return new MoeShape
        {
            RoutedExperts = gguf.Int("expert_count"),
            SharedExperts = gguf.OptInt("expert_shared_count") ?? 0,
            ExpertsPerToken = gguf.Int("expert_used_count"),
            ExpertIntermediateSize = gguf.Int("expert_feed_forward_length"),
            FirstDenseLayers = gguf.OptInt("leading_dense_block_count") ?? 0,
            ExpertGroups = gguf.OptInt("expert_group_count") ?? 1,
            TopkGroups = gguf.OptInt("expert_group_used_count") ?? 1,
            RoutedScalingFactor = gguf.OptDouble("expert_weights_scale") ?? 1,
            NormTopkProb = gguf.OptBool("expert_weights_norm") ?? false,
        };
    }

    public static void Write(Dictionary<string, object> keys, string architecture, MoeShape moe)
    {
        string a = architecture;
        keys[$"{a}.expert_count"] = (uint)moe.RoutedExperts;
        keys[$"{a}.expert_used_count"] = (uint)moe.ExpertsPerToken;
        keys[$"{a}.expert_shared_count"] = (uint)moe.SharedExperts;
        keys[$"{a}.expert_feed_forward_length"] = (uint)moe.ExpertIntermediateSize;
        keys[$"{a}.leading_dense_block_count"] = (uint)moe.FirstDenseLayers;
        keys[$"{a}.expert_group_count"] = (uint)moe.ExpertGroups;
        keys[$"{a}.expert_group_used_count"] = (uint)moe.TopkGroups;
        keys[$"{a}.expert_gating_func"] = (uint)SigmoidGating;
        keys[$"{a}.expert_weights_scale"] = (float)moe.RoutedScalingFactor;
        keys[$"{a}.expert_weights_norm"] = moe.NormTopkProb;
    }
}
