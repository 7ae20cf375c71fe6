using GlmSharp.Configs;
using GlmSharp.Errors;
using GlmSharp.Formats.Gguf;

namespace GlmSharp.Vision;

/// <summary>
/// Reads a llama.cpp glm4v mmproj GGUF's metadata into the vision tower and pre-processing configs. The converter
/// writes the vision config's intermediate_size (the merger's inner width) as feed_forward_length and the text hidden
/// size as projection_dim; the temporal patch size is not stored, since the Conv3d kernel is split into two 2-D kernels.
/// </summary>
public static class Glm4vMmproj
{
    private static readonly IReadOnlyDictionary<string, string> KeyNames = new Dictionary<string, string>
    {
        ["depth"] = MmprojKeys.BlockCount, ["hidden"] = MmprojKeys.EmbeddingLength, ["heads"] = MmprojKeys.HeadCount,
        ["patch"] = MmprojKeys.PatchSize, ["temporal"] = "(temporal patch size)", ["merge"] = MmprojKeys.SpatialMergeSize,
        ["channels"] = "(channels)", ["image"] = MmprojKeys.ImageSize, ["out"] = MmprojKeys.ProjectionDim,
        ["intermediate"] = MmprojKeys.FeedForwardLength, ["eps"] = MmprojKeys.LayerNormEpsilon,
    };

    public static (Glm4vVisionConfig Vision, Glm4vPreprocessorConfig Preprocessor) Read(GgufMetadata m)
    {
        string origin = m.Origin;
        if (m.TryGetString(MmprojKeys.Architecture, out var arch) && arch != "clip")
            throw new ModelFormatException($"{origin}: metadata key '{MmprojKeys.Architecture}' is '{arch}', an mmproj file has 'clip'");
        string projector = m.TryGetString(MmprojKeys.ProjectorType, out var p) ? p
            : m.TryGetString(MmprojKeys.VisionProjectorType, out var vp) ? vp
            : throw new ModelFormatException($"{origin}: metadata key '{MmprojKeys.ProjectorType}' (string) is missing.");
        if (projector != MmprojKeys.Glm4vProjector)
            throw new UnsupportedModelException($"{origin}: projector type '{projector}' is not supported; GlmSharp reads glm4v mmproj files");
        if (m.TryGetBool(MmprojKeys.HasVisionEncoder, out bool hasVision) && !hasVision)
            throw new ModelFormatException($"{origin}: metadata key '{MmprojKeys.HasVisionEncoder}' is false");
        if (m.TryGetBool(MmprojKeys.UseGelu, out bool gelu) && gelu)
            throw new UnsupportedModelException($"{origin}: metadata key '{MmprojKeys.UseGelu}' is true, GlmSharp runs glm4v's vision tower with silu only");
        // Without the key llama.cpp's clip falls back to quick GELU in every MLP, which is not glm4v's network.
        if (!m.TryGetBool(MmprojKeys.UseSilu, out bool silu) || !silu)
            throw new UnsupportedModelException($"{origin}: metadata key '{MmprojKeys.UseSilu}' is missing or false; glm4v's vision MLPs are SwiGLU (silu)");

        var vision = new Glm4vVisionConfig
        {
            Depth = m.GetInt(MmprojKeys.BlockCount),
            HiddenSize = m.GetInt(MmprojKeys.EmbeddingLength),
            NumHeads = m.GetInt(MmprojKeys.HeadCount),
            PatchSize = m.GetInt(MmprojKeys.PatchSize),
            ImageSize = m.GetInt(MmprojKeys.ImageSize),
            OutHiddenSize = m.GetInt(MmprojKeys.ProjectionDim),
            IntermediateSize = m.GetInt(MmprojKeys.FeedForwardLength),
            SpatialMergeSize = m.TryGetInt(MmprojKeys.SpatialMergeSize, out int merge) ? merge : 2,
            RmsNormEps = m.TryGetFloat(MmprojKeys.LayerNormEpsilon, out float eps) ? eps : 1e-5,
        };
        vision.Validate(origin, KeyNames);

        var preprocessor = new Glm4vPreprocessorConfig
        {
            PatchSize = vision.PatchSize,
            MergeSize = vision.SpatialMergeSize,
            TemporalPatchSize = vision.TemporalPatchSize,
            ImageMean = Triple(m, MmprojKeys.ImageMean) ?? Glm4vPreprocessorConfig.ClipMean,
            ImageStd = Triple(m, MmprojKeys.ImageStd) ?? Glm4vPreprocessorConfig.ClipStd,
        };
        if (preprocessor.ImageStd.Any(s => !(s > 0)))
            throw new ModelFormatException($"{origin}: metadata key '{MmprojKeys.ImageStd}' must hold positive numbers, found [{string.Join(", ", preprocessor.ImageStd)}]");
        return (vision, preprocessor);
    }

    private static float[]? Triple(GgufMetadata m, string key)
    {
        if (!m.TryGetArray<float>(key, out var values)) return null;
        return values.Length == 3 ? values
            : throw new ModelFormatException($"{m.Origin}: metadata key '{key}' holds {values.Length} values, expected 3 (R, G, B)");
    }
}
