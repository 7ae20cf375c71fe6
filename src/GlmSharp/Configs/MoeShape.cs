namespace GlmSharp.Configs;

/// <summary>
/// The mixture-of-experts fields that glm4_moe, glm4_moe_lite, deepseek_v3, glm_moe_dsa and qwen3_moe share.
/// Layers below <see cref="FirstDenseLayers"/> use the dense MLP of width <see cref="ModelConfig.IntermediateSize"/>.
/// </summary>
public sealed record MoeShape
{
    public required int RoutedExperts { get; init; }
    public required int SharedExperts { get; init; }
    public required int ExpertsPerToken { get; init; }
    public required int ExpertIntermediateSize { get; init; }
    public required int FirstDenseLayers { get; init; }
    public required int ExpertGroups { get; init; }
    public required int TopkGroups { get; init; }
    public required double RoutedScalingFactor { get; init; }
    public required bool NormTopkProb { get; init; }

    /// <summary>Reads the DeepSeek-style key names; <paramref name="defaults"/> holds the HF class defaults of one model_type.</summary>
    public static MoeShape Read(ConfigJson j, MoeShape defaults) => new()
    {
        RoutedExperts = j.OptInt("n_routed_experts") ?? defaults.RoutedExperts,
        SharedExperts = j.OptInt("n_shared_experts") ?? defaults.SharedExperts,
        ExpertsPerToken = j.OptInt("num_experts_per_tok") ?? defaults.ExpertsPerToken,
        ExpertIntermediateSize = j.OptInt("moe_intermediate_size") ?? defaults.ExpertIntermediateSize,
        FirstDenseLayers = j.OptInt("first_k_dense_replace") ?? defaults.FirstDenseLayers,
        ExpertGroups = j.OptInt("n_group") ?? defaults.ExpertGroups,
        TopkGroups = j.OptInt("topk_group") ?? defaults.TopkGroups,
        RoutedScalingFactor = j.OptDouble("routed_scaling_factor") ?? defaults.RoutedScalingFactor,
        NormTopkProb = j.OptBool("norm_topk_prob") ?? defaults.NormTopkProb,
    };
}
