using System.Diagnostics.CodeAnalysis;
using GlmSharp.Errors;

namespace GlmSharp.Configs;

/// <summary>
/// <c>model_type: "qwen3_moe"</c> — Qwen3-30B-A3B / 235B-A22B: GQA with QK-norm and full RoPE, softmax-routed experts
/// without a shared expert. A layer is sparse when (layer + 1) % decoder_sparse_step == 0 and it is not in mlp_only_layers.
/// </summary>
public sealed record Qwen3MoeConfig : ModelConfig, IMoeConfig
{
    [SetsRequiredMembers]
    public Qwen3MoeConfig(ModelConfig fields, MoeShape moe, bool[] sparseLayers) : base(fields)
    {
        Moe = moe;
        SparseLayers = sparseLayers;
    }

    public MoeShape Moe { get; init; }

    /// <summary>One flag per decoder layer: true where the MLP is the expert mixture.</summary>
    public bool[] SparseLayers { get; init; }

    private static readonly ModelConfig Defaults = DecoderFields.Defaults("qwen3_moe", vocab: 151936, hidden: 2048, layers: 24,
        heads: 32, kvHeads: 4, headDim: 64, intermediate: 6144, maxPositions: 32768, rmsEps: 1e-6, ropeTheta: 10000);

    public static Qwen3MoeConfig FromJson(ConfigJson j)
    {
        int hidden = j.OptInt("hidden_size") ?? Defaults.HiddenSize;
        int heads = j.OptInt("num_attention_heads") ?? Defaults.NumHeads;
        var fields = DecoderFields.Read(j, Defaults with { HeadDim = hidden / heads });
        var moe = new MoeShape
        {
            RoutedExperts = j.OptInt("num_experts") ?? 128,
            SharedExperts = 0,
            ExpertsPerToken = j.OptInt("num_experts_per_tok") ?? 8,
            ExpertIntermediateSize = j.OptInt("moe_intermediate_size") ?? 768,
            FirstDenseLayers = 0,
            ExpertGroups = 1,
            TopkGroups = 1,
            RoutedScalingFactor = 1.0,
            NormTopkProb = j.OptBool("norm_topk_prob") ?? false,
        };
        int step = j.OptInt("decoder_sparse_step") ?? 1;
        if (step < 1) throw new ModelFormatException($"{j.Origin}: field 'decoder_sparse_step' must be >= 1, found {step}");
        var denseOnly = j.IntOrIntList("mlp_only_layers").ToHashSet();
        bool[] sparse = [.. Enumerable.Range(0, fields.NumLayers).Select(l => !denseOnly.Contains(l) && moe.RoutedExperts > 0 && (l + 1) % step == 0)];
        return new(fields, moe, sparse);
    }
}
