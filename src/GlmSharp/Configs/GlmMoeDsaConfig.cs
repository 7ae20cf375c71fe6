using System.Diagnostics.CodeAnalysis;

namespace GlmSharp.Configs;

/// <summary>
/// <c>model_type: "glm_moe_dsa"</c> — GLM-5 / 5.1 / 5.2 / 5.3: MLA attention restricted to the tokens picked by a DSA
/// indexer, 256-expert MoE with a shared expert after <see cref="MoeShape.FirstDenseLayers"/> dense layers, and MTP.
/// </summary>
public sealed record GlmMoeDsaConfig : ModelConfig, IMoeConfig, IMlaConfig, INextNConfig
{
    [SetsRequiredMembers]
    public GlmMoeDsaConfig(ModelConfig fields, MlaShape mla, MoeShape moe, DsaIndexerShape indexer, int nextNLayers) : base(fields)
    {
        Mla = mla;
        Moe = moe;
        Indexer = indexer;
        NextNLayers = nextNLayers;
    }

    public MlaShape Mla { get; init; }
    public MoeShape Moe { get; init; }
    public DsaIndexerShape Indexer { get; init; }
    public int NextNLayers { get; init; }

    // GLM-5 values (zai-org/GLM-5 config.json as used for the transformers class defaults).
    private static readonly ModelConfig Defaults = DecoderFields.Defaults("glm_moe_dsa", vocab: 154880, hidden: 6144, layers: 78,
        heads: 64, kvHeads: 64, headDim: 64, intermediate: 12288, maxPositions: 202752, rmsEps: 1e-5, ropeTheta: 1e6,
        eos: [154820, 154827, 154829]);

    private static readonly MlaShape MlaDefaults = new() { QLoraRank = 2048, KvLoraRank = 512, QkNopeHeadDim = 192, QkRopeHeadDim = 64, VHeadDim = 256 };

    private static readonly MoeShape MoeDefaults = new()
    {
        RoutedExperts = 256, SharedExperts = 1, ExpertsPerToken = 8, ExpertIntermediateSize = 2048, FirstDenseLayers = 3,
        ExpertGroups = 1, TopkGroups = 1, RoutedScalingFactor = 2.5, NormTopkProb = true,
    };

    public static GlmMoeDsaConfig FromJson(ConfigJson j)
    {
        var mla = MlaShape.Read(j, MlaDefaults);
        var fields = DecoderFields.Read(j, Defaults) with { HeadDim = mla.QkRopeHeadDim };
        return new(fields, mla, MoeShape.Read(j, MoeDefaults), DsaIndexerShape.Read(j, fields.NumLayers),
            j.OptInt("num_nextn_predict_layers") ?? 0);
    }
}
