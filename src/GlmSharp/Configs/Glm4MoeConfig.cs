using System.Diagnostics.CodeAnalysis;

namespace GlmSharp.Configs;

/// <summary>
/// <c>model_type: "glm4_moe"</c> — GLM-4.5 / 4.6 / 4.7 and GLM-4.5-Air: GQA attention with partial RoPE and optional
/// QK-norm, the first <see cref="MoeShape.FirstDenseLayers"/> layers dense, the rest sigmoid-routed experts plus a
/// shared expert; <see cref="NextNLayers"/> multi-token-prediction layers follow the main stack.
/// </summary>
public sealed record Glm4MoeConfig : ModelConfig, IMoeConfig, INextNConfig
{
    [SetsRequiredMembers]
    public Glm4MoeConfig(ModelConfig fields, MoeShape moe, bool useQkNorm, int nextNLayers) : base(fields)
    {
        Moe = moe;
        UseQkNorm = useQkNorm;
        NextNLayers = nextNLayers;
    }

    public MoeShape Moe { get; init; }
    public bool UseQkNorm { get; init; }
    public int NextNLayers { get; init; }

    // transformers Glm4MoeConfig class defaults (they describe GLM-4.5-Air).
    private static readonly ModelConfig Defaults = DecoderFields.Defaults("glm4_moe", vocab: 151552, hidden: 4096, layers: 46,
        heads: 96, kvHeads: 8, headDim: 128, intermediate: 10944, maxPositions: 131072, rmsEps: 1e-5, ropeTheta: 10000,
        partialRotary: 0.5);

    private static readonly MoeShape MoeDefaults = new()
    {
        RoutedExperts = 128, SharedExperts = 1, ExpertsPerToken = 8, ExpertIntermediateSize = 1408, FirstDenseLayers = 1,
        ExpertGroups = 1, TopkGroups = 1, RoutedScalingFactor = 1.0, NormTopkProb = true,
    };

    // transformers Glm4vMoeTextConfig class defaults (GLM-4.5V's text model, GLM-4.5-Air's layers) where they differ.
    private static readonly ModelConfig Glm4vMoeTextDefaults = Defaults with { ModelType = "glm4v_moe", VocabSize = 151424, MaxPositions = 65536, AttentionBias = true };

    /// <summary>
    /// GLM-4.5V's <c>text_config</c>: glm4_moe's fields under Glm4vMoeTextConfig's defaults. transformers has no
    /// multi-token-prediction layer for it; use_qk_norm is read as newer files write it (false in GLM-4.5V).
    /// </summary>
    public static Glm4MoeConfig Glm4vMoeTextFromJson(ConfigJson text) => new(
        DecoderFields.Read(text, Glm4vMoeTextDefaults),
        MoeShape.Read(text, MoeDefaults),
        text.OptBool("use_qk_norm") ?? false,
        nextNLayers: 0);

    public static Glm4MoeConfig FromJson(ConfigJson j) => new(
        DecoderFields.Read(j, Defaults),
        MoeShape.Read(j, MoeDefaults),
        j.OptBool("use_qk_norm") ?? false,
        j.OptInt("num_nextn_predict_layers") ?? 0);
}
