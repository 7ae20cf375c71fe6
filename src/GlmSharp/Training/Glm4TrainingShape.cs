using GlmSharp.Errors;

namespace GlmSharp.Training;

/// <summary>
/// The hyper-parameters of a glm4 model being trained; the same meaning as the Hugging Face <c>config.json</c> keys
/// of <c>Glm4ForCausalLM</c> (see <see cref="Configs.Glm4Config"/>), with defaults suited to a small model.
/// </summary>
public sealed record Glm4TrainingShape
{
    public required int VocabSize { get; init; }
    public required int HiddenSize { get; init; }
    public required int NumLayers { get; init; }
    public required int NumHeads { get; init; }
    public required int NumKvHeads { get; init; }
    public required int HeadDim { get; init; }
    public required int IntermediateSize { get; init; }
    public double PartialRotaryFactor { get; init; } = 0.5;
    public double RopeTheta { get; init; } = 10000.0;
    public double RmsNormEps { get; init; } = 1e-5;
    public bool AttentionBias { get; init; } = true;
    public bool TieWordEmbeddings { get; init; }
    public int MaxPositions { get; init; } = 2048;

    public int RotaryDims => (int)(HeadDim * PartialRotaryFactor);
    public int QueryWidth => NumHeads * HeadDim;
    public int KeyValueWidth => NumKvHeads * HeadDim;

    public long ParameterCount
    {
        get
        {
            long h = HiddenSize, q = QueryWidth, kv = KeyValueWidth, i = IntermediateSize;
            long attention = q * h + 2 * kv * h + h * q + (AttentionBias ? q + 2 * kv : 0);
            long layer = attention + 2 * i * h + h * i + 4 * h;
            long embeddings = (long)VocabSize * h * (TieWordEmbeddings ? 1 : 2);
            return embeddings + NumLayers * layer + h;
        }
    }

    /// <summary>Throws <see cref="GlmException"/> naming the first field that cannot describe a trainable model.</summary>
    public void Validate()
    {
        Positive(VocabSize, "vocab_size");
        Positive(HiddenSize, "hidden_size");
        Positive(NumLayers, "num_hidden_layers");
        Positive(NumHeads, "num_attention_heads");
        Positive(NumKvHeads, "num_key_value_heads");
        Positive(HeadDim, "head_dim");
        Positive(IntermediateSize, "intermediate_size");
        Positive(MaxPositions, "max_position_embeddings");
        if (NumHeads % NumKvHeads != 0)
            throw new GlmException($"num_attention_heads {NumHeads} is not a multiple of num_key_value_heads {NumKvHeads}");
        if (PartialRotaryFactor is <= 0 or > 1 || RotaryDims % 2 != 0)
            throw new GlmException(
                $"partial_rotary_factor {PartialRotaryFactor} gives {RotaryDims} rotary dims of head_dim {HeadDim}; need an even number in (0, head_dim]");
        if (RmsNormEps <= 0) throw new GlmException($"rms_norm_eps must be positive, found {RmsNormEps}");
        if (RopeTheta <= 1) throw new GlmException($"rope_theta must be greater than 1, found {RopeTheta}");
    }

    private static void Positive(int value, string field)
    {
        if (value <= 0) throw new GlmException($"{field} must be positive, found {value}");
    }
}
