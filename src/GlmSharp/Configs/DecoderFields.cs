namespace GlmSharp.Configs;

/// <summary>
/// Reads the fields every decoder shares, falling back to the Hugging Face class defaults of one model_type.
/// The MoE configs pass their defaults here so that each model_type resolves its defaults in one place.
/// </summary>
internal static class DecoderFields
{
    public static ModelConfig Read(ConfigJson j, ModelConfig defaults)
    {
        int hidden = j.OptInt("hidden_size") ?? defaults.HiddenSize;
        int heads = j.OptInt("num_attention_heads") ?? defaults.NumHeads;
        return new Fields
        {
            ModelType = defaults.ModelType,
            VocabSize = j.OptInt("vocab_size") ?? defaults.VocabSize,
            HiddenSize = hidden,
            NumLayers = j.OptInt("num_hidden_layers") ?? defaults.NumLayers,
            NumHeads = heads,
            NumKvHeads = j.OptInt("num_key_value_heads") ?? defaults.NumKvHeads,
            HeadDim = j.OptInt("head_dim") ?? defaults.HeadDim,
            IntermediateSize = j.OptInt("intermediate_size") ?? defaults.IntermediateSize,
            MaxPositions = j.OptInt("max_position_embeddings") ?? defaults.MaxPositions,
            RmsNormEps = j.OptDouble("rms_norm_eps") ?? defaults.RmsNormEps,
            RopeTheta = j.OptDouble("rope_theta") ?? j.Object("rope_parameters")?.OptDouble("rope_theta") ?? defaults.RopeTheta,
            PartialRotaryFactor = j.OptDouble("partial_rotary_factor") ?? defaults.PartialRotaryFactor,
            AttentionBias = j.OptBool("attention_bias") ?? defaults.AttentionBias,
            TieWordEmbeddings = j.OptBool("tie_word_embeddings") ?? defaults.TieWordEmbeddings,
            EosTokenIds = j.IntOrIntList("eos_token_id") is { Length: > 0 } eos ? eos : defaults.EosTokenIds,
            PadTokenId = j.OptInt("pad_token_id") ?? defaults.PadTokenId,
            BosTokenId = j.OptInt("bos_token_id") ?? defaults.BosTokenId,
        };
    }

    /// <summary>Builds a defaults record; named arguments keep each model_type's table readable.</summary>
    public static ModelConfig Defaults(string modelType, int vocab, int hidden, int layers, int heads, int kvHeads, int headDim,
        int intermediate, int maxPositions, double rmsEps, double ropeTheta, double partialRotary = 1.0, bool attentionBias = false,
        int[]? eos = null) => new Fields
        {
            ModelType = modelType,
            VocabSize = vocab,
            HiddenSize = hidden,
            NumLayers = layers,
            NumHeads = heads,
            NumKvHeads = kvHeads,
            HeadDim = headDim,
            IntermediateSize = intermediate,
            MaxPositions = maxPositions,
            RmsNormEps = rmsEps,
            RopeTheta = ropeTheta,
            PartialRotaryFactor = partialRotary,
            AttentionBias = attentionBias,
            TieWordEmbeddings = false,
            EosTokenIds = eos ?? [],
        };

    private sealed record Fields : ModelConfig;
}
