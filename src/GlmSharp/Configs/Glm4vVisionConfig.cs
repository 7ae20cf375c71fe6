using GlmSharp.Errors;

namespace GlmSharp.Configs;

/// <summary>
/// The glm4v vision tower (<c>vision_config</c> of config.json, or the clip.* keys of a llama.cpp mmproj GGUF).
/// Absent config.json keys take Glm4vVisionConfig's class defaults, which are GLM-4.1V's values; GLM-OCR's tower
/// (<see cref="GlmOcrLayout"/>) takes GlmOcrVisionConfig's.
/// </summary>
public sealed record Glm4vVisionConfig
{
    public int Depth { get; init; } = 24;
    public int HiddenSize { get; init; } = 1536;
    public int NumHeads { get; init; } = 12;
    public int PatchSize { get; init; } = 14;
    public int TemporalPatchSize { get; init; } = 2;
    public int SpatialMergeSize { get; init; } = 2;
    public int InChannels { get; init; } = 3;

    /// <summary>Side of the learned position table's training resolution: the table has (ImageSize / PatchSize)² rows.</summary>
    public int ImageSize { get; init; } = 336;

    /// <summary>Width of the merged tokens handed to the text model; also the inner width of each block's MLP.</summary>
    public int OutHiddenSize { get; init; } = 4096;

    /// <summary>Inner width of the merger's SwiGLU.</summary>
    public int IntermediateSize { get; init; } = 13696;

    public double RmsNormEps { get; init; } = 1e-5;
    public bool AttentionBias { get; init; } = false;

    /// <summary>
    /// GLM-OCR's tower (transformers' GlmOcrVisionModel): no learned position table and no post-conv norm (2-D RoPE is
    /// its only position signal), q and k RMS-normed per head before RoPE, the attention output and the blocks' MLP with
    /// biases (attention_bias), the blocks' MLP intermediate_size wide, the merger's SwiGLU out_hidden_size × in_channels.
    /// </summary>
    public bool GlmOcrLayout { get; init; }

    /// <summary>Inner width of each block's SwiGLU: out_hidden_size in GLM-4.1V, intermediate_size in GLM-OCR.</summary>
    public int BlockMlpWidth => GlmOcrLayout ? IntermediateSize : OutHiddenSize;

    /// <summary>Inner width of the merger's SwiGLU: intermediate_size in GLM-4.1V, out_hidden_size × in_channels in GLM-OCR.</summary>
    public int MergerWidth => GlmOcrLayout ? OutHiddenSize * InChannels : IntermediateSize;

    /// <summary>Whether the attention output projection and the blocks' MLP carry biases (GLM-OCR with attention_bias).</summary>
    public bool BlockBiases => GlmOcrLayout && AttentionBias;

    public int HeadDim => HiddenSize / NumHeads;
    public int PositionGridSide => ImageSize / PatchSize;

    public static Glm4vVisionConfig FromJson(ConfigJson j, bool glmOcr = false)
    {
        string act = j.OptString("hidden_act") ?? "silu";
        if (act != "silu") throw new UnsupportedModelException($"{j.Origin}: field 'hidden_act' is '{act}', GlmSharp runs glm4v's vision tower with silu only");
        var config = new Glm4vVisionConfig
        {
            Depth = j.OptInt("depth") ?? 24,
            HiddenSize = j.OptInt("hidden_size") ?? (glmOcr ? 1024 : 1536),
            NumHeads = j.OptInt("num_heads") ?? (glmOcr ? 16 : 12),
            PatchSize = j.OptInt("patch_size") ?? 14,
            TemporalPatchSize = j.OptInt("temporal_patch_size") ?? 2,
            SpatialMergeSize = j.OptInt("spatial_merge_size") ?? 2,
            InChannels = j.OptInt("in_channels") ?? 3,
            ImageSize = j.OptInt("image_size") ?? 336,
            OutHiddenSize = j.OptInt("out_hidden_size") ?? (glmOcr ? 1536 : 4096),
            IntermediateSize = j.OptInt("intermediate_size") ?? (glmOcr ? 4096 : 13696),
            RmsNormEps = j.OptDouble("rms_norm_eps") ?? 1e-5,
            AttentionBias = j.OptBool("attention_bias") ?? glmOcr,
            GlmOcrLayout = glmOcr,
        };
        config.Validate(j.Origin, ConfigKeyNames);
        return config;
    }

    /// <summary>config.json's key for each validated field, so a refusal names what to fix in that file.</summary>
    internal static readonly IReadOnlyDictionary<string, string> ConfigKeyNames = new Dictionary<string, string>
    {
        ["depth"] = "depth", ["hidden"] = "hidden_size", ["heads"] = "num_heads", ["patch"] = "patch_size",
        ["temporal"] = "temporal_patch_size", ["merge"] = "spatial_merge_size", ["channels"] = "in_channels",
        ["image"] = "image_size", ["out"] = "out_hidden_size", ["intermediate"] = "intermediate_size", ["eps"] = "rms_norm_eps",
    };

    internal void Validate(string origin, IReadOnlyDictionary<string, string> keys)
    {
        void Positive(string field, int value)
        {
            if (value < 1) throw new ModelFormatException($"{origin}: field '{keys[field]}' is {value}, expected ≥ 1");
        }
        Positive("depth", Depth);
        Positive("hidden", HiddenSize);
        Positive("heads", NumHeads);
        Positive("patch", PatchSize);
        Positive("temporal", TemporalPatchSize);
        Positive("merge", SpatialMergeSize);
        Positive("image", ImageSize);
        Positive("out", OutHiddenSize);
        Positive("intermediate", IntermediateSize);
        if (InChannels != 3) throw new ModelFormatException($"{origin}: field '{keys["channels"]}' is {InChannels}, glm4v takes RGB (3)");
        if (HiddenSize % NumHeads != 0 || HeadDim % 4 != 0)
            throw new ModelFormatException($"{origin}: field '{keys["hidden"]}' = {HiddenSize} over '{keys["heads"]}' = {NumHeads} must give a head size divisible by 4 (2-D RoPE splits it into rows and columns)");
        if (ImageSize % PatchSize != 0)
            throw new ModelFormatException($"{origin}: field '{keys["image"]}' = {ImageSize} is not a multiple of '{keys["patch"]}' = {PatchSize}");
        if (!(RmsNormEps > 0)) throw new ModelFormatException($"{origin}: field '{keys["eps"]}' is {RmsNormEps}, expected > 0");
    }
}
