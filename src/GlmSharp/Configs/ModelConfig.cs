namespace GlmSharp.Configs;

/// <summary>
/// What every decoder-only text model in the GLM family shares. Each architecture has its own record
/// deriving from this one, built from a Hugging Face config.json or from GGUF metadata.
/// </summary>
public abstract record ModelConfig
{
    /// <summary>Hugging Face <c>model_type</c> ("glm", "glm4", "glm4_moe", ...).</summary>
    public required string ModelType { get; init; }

    public required int VocabSize { get; init; }
    public required int HiddenSize { get; init; }
    public required int NumLayers { get; init; }
    public required int NumHeads { get; init; }
    public required int NumKvHeads { get; init; }
    public required int HeadDim { get; init; }
    public required int IntermediateSize { get; init; }
    public required int MaxPositions { get; init; }
    public required double RmsNormEps { get; init; }
    public required double RopeTheta { get; init; }
    public required double PartialRotaryFactor { get; init; }
    public required bool AttentionBias { get; init; }
    public required bool TieWordEmbeddings { get; init; }
    public int[] EosTokenIds { get; init; } = [];
    public int? PadTokenId { get; init; }
    public int? BosTokenId { get; init; }

    /// <summary>YaRN context extension when the checkpoint asks for it (GLM-4-0414 beyond 32K), else null.</summary>
    public YarnScaling? RopeScaling { get; init; }

    /// <summary>
    /// M-RoPE sections (rotary pairs driven by the t, h, w and spare position components) of a text model that takes
    /// 3-D positions, as llama.cpp's <c>rope.dimension_sections</c> gives them for GLM-4.1V's text model; null for 1-D RoPE.
    /// </summary>
    public int[]? MropeSections { get; init; }

    /// <summary>The file's keys for these fields, for error messages.</summary>
    public ConfigKeys Keys { get; init; } = ConfigKeys.HuggingFace;

    /// <summary>Number of leading dimensions of each head that rotate (the rest pass through).</summary>
    public int RotaryDims => (int)(HeadDim * PartialRotaryFactor);
}
