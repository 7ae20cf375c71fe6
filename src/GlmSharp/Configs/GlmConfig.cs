using System.Diagnostics.CodeAnalysis;

namespace GlmSharp.Configs;

/// <summary>
/// <c>model_type: "glm"</c> — glm-4-9b-chat-hf and GLM-Edge: Llama-style pre-norm layers, fused gate_up MLP,
/// interleaved partial RoPE (edge: full rotary), optional q/k/v bias, optionally tied embeddings.
/// </summary>
public sealed record GlmConfig : ModelConfig
{
    [SetsRequiredMembers]
    public GlmConfig(ModelConfig fields) : base(fields) { }

    public static GlmConfig FromJson(ConfigJson j) => new(DenseGlmDefaults.Read(j, "glm"));
}

/// <summary>
/// <c>model_type: "glm4"</c> — GLM-4-0414 / Z1: like glm plus a norm on each sub-layer's output before the residual add.
/// </summary>
public sealed record Glm4Config : ModelConfig
{
    [SetsRequiredMembers]
    public Glm4Config(ModelConfig fields) : base(fields) { }

    public static Glm4Config FromJson(ConfigJson j) => new(DenseGlmDefaults.Read(j, "glm4"));
}

/// <summary>The one place where the Hugging Face class defaults of GlmConfig / Glm4Config are resolved.</summary>
internal static class DenseGlmDefaults
{
    public static ModelConfig Read(ConfigJson j, string modelType)
    {
        int hidden = j.OptInt("hidden_size") ?? 4096;
        int heads = j.OptInt("num_attention_heads") ?? 32;
        int maxPositions = j.OptInt("max_position_embeddings") ?? 131072;
        return new ConfigFields
        {
            ModelType = modelType,
            VocabSize = j.OptInt("vocab_size") ?? 151552,
            HiddenSize = hidden,
            NumLayers = j.OptInt("num_hidden_layers") ?? 40,
            NumHeads = heads,
            NumKvHeads = j.OptInt("num_key_value_heads") ?? 2,
            HeadDim = j.OptInt("head_dim") ?? (heads > 0 ? hidden / heads : 0),
            IntermediateSize = j.OptInt("intermediate_size") ?? 13696,
            MaxPositions = maxPositions,
            RmsNormEps = j.OptDouble("rms_norm_eps") ?? 1.5625e-07,
            RopeTheta = j.OptDouble("rope_theta") ?? RopeThetaFromParameters(j) ?? 10000.0,
            PartialRotaryFactor = j.OptDouble("partial_rotary_factor") ?? 0.5,
            AttentionBias = j.OptBool("attention_bias") ?? true,
            TieWordEmbeddings = j.OptBool("tie_word_embeddings") ?? false,
            EosTokenIds = j.IntOrIntList("eos_token_id") is { Length: > 0 } eos ? eos : [151329, 151336, 151338],
            PadTokenId = j.OptInt("pad_token_id") ?? 151329,
            BosTokenId = j.OptInt("bos_token_id"),
            RopeScaling = RopeScalingField.Read(j, maxPositions),
        };
    }

    private sealed record ConfigFields : ModelConfig;

    /// <summary>transformers ≥ 4.56 may move rope_theta into a <c>rope_parameters</c> object.</summary>
    private static double? RopeThetaFromParameters(ConfigJson j) => j.Object("rope_parameters")?.OptDouble("rope_theta");
}
