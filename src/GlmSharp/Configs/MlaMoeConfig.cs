using System.Diagnostics.CodeAnalysis;

namespace GlmSharp.Configs;

/// <summary>
/// MLA attention with DeepSeek-style MoE: <c>deepseek_v3</c> (DeepSeek-V3 / R1 / V3.1) and <c>glm4_moe_lite</c>
/// (GLM-4.7-Flash). Following transformers, <see cref="ModelConfig.HeadDim"/> is the rotary part of a query head,
/// so <see cref="ModelConfig.RotaryDims"/> is the RoPE width; the full head shape is in <see cref="Mla"/>.
/// </summary>
public sealed record MlaMoeConfig : ModelConfig, IMoeConfig, IMlaConfig, INextNConfig
{
    [SetsRequiredMembers]
    public MlaMoeConfig(ModelConfig fields, MlaShape mla, MoeShape moe, int nextNLayers) : base(fields)
    {
        Mla = mla;
        Moe = moe;
        NextNLayers = nextNLayers;
    }

    public MlaShape Mla { get; init; }
    public MoeShape Moe { get; init; }
    public int NextNLayers { get; init; }

    private static readonly ModelConfig DeepseekDefaults = DecoderFields.Defaults("deepseek_v3", vocab: 129280, hidden: 7168,
        layers: 61, heads: 128, kvHeads: 128, headDim: 64, intermediate: 18432, maxPositions: 4096, rmsEps: 1e-6, ropeTheta: 10000);

    private static readonly MlaShape DeepseekMla = new() { QLoraRank = 1536, KvLoraRank = 512, QkNopeHeadDim = 128, QkRopeHeadDim = 64, VHeadDim = 128 };

    private static readonly MoeShape DeepseekMoe = new()
    {
        RoutedExperts = 256, SharedExperts = 1, ExpertsPerToken = 8, ExpertIntermediateSize = 2048, FirstDenseLayers = 3,
        ExpertGroups = 8, TopkGroups = 4, RoutedScalingFactor = 2.5, NormTopkProb = true,
    };

    private static readonly ModelConfig LiteDefaults = DecoderFields.Defaults("glm4_moe_lite", vocab: 154880, hidden: 2048,
        layers: 47, heads: 20, kvHeads: 20, headDim: 64, intermediate: 10240, maxPositions: 202752, rmsEps: 1e-5, ropeTheta: 1e6);

    private static readonly MlaShape LiteMla = new() { QLoraRank = 768, KvLoraRank = 512, QkNopeHeadDim = 192, QkRopeHeadDim = 64, VHeadDim = 256 };

    private static readonly MoeShape LiteMoe = new()
    {
        RoutedExperts = 64, SharedExperts = 1, ExpertsPerToken = 4, ExpertIntermediateSize = 1536, FirstDenseLayers = 1,
        ExpertGroups = 1, TopkGroups = 1, RoutedScalingFactor = 1.8, NormTopkProb = true,
    };

    public static MlaMoeConfig DeepseekV3FromJson(ConfigJson j) => Read(j, DeepseekDefaults, DeepseekMla, DeepseekMoe);

    public static MlaMoeConfig Glm4MoeLiteFromJson(ConfigJson j) => Read(j, LiteDefaults, LiteMla, LiteMoe);

    private static MlaMoeConfig Read(ConfigJson j, ModelConfig defaults, MlaShape mla, MoeShape moe)
    {
        var shape = MlaShape.Read(j, mla);
        // head_dim in these configs is the RoPE width of a query head (transformers sets it from qk_rope_head_dim).
        var fields = DecoderFields.Read(j, defaults with { HeadDim = shape.QkRopeHeadDim }) with { HeadDim = shape.QkRopeHeadDim };
        return new(fields, shape, MoeShape.Read(j, moe), j.OptInt("num_nextn_predict_layers") ?? 0);
    }
}
