using GlmSharp.Configs;
using GlmSharp.Tensors;

namespace GlmSharp.Vision;

/// <summary>
/// What a glm4v mmproj GGUF holds besides the tensor list (<see cref="Glm4vVisionTensors.Mmproj"/>), as llama.cpp's
/// converter writes it: the clip.* keys <see cref="Glm4vMmproj.Read"/> reads back, and the type each tensor is stored in.
/// </summary>
public static class Glm4vMmprojLayout
{
    public static IReadOnlyDictionary<string, object> Metadata(Glm4vVisionConfig c, float[] mean, float[] std) => new Dictionary<string, object>
    {
        [MmprojKeys.Architecture] = "clip",
        [MmprojKeys.ProjectorType] = MmprojKeys.Glm4vProjector,
        [MmprojKeys.HasVisionEncoder] = true,
        [MmprojKeys.UseSilu] = true,
        [MmprojKeys.EmbeddingLength] = (uint)c.HiddenSize,
        [MmprojKeys.FeedForwardLength] = (uint)c.IntermediateSize,
        [MmprojKeys.BlockCount] = (uint)c.Depth,
        [MmprojKeys.ProjectionDim] = (uint)c.OutHiddenSize,
        [MmprojKeys.HeadCount] = (uint)c.NumHeads,
        [MmprojKeys.LayerNormEpsilon] = (float)c.RmsNormEps,
        [MmprojKeys.ImageSize] = (uint)c.ImageSize,
        [MmprojKeys.PatchSize] = (uint)c.PatchSize,
        [MmprojKeys.SpatialMergeSize] = (uint)c.SpatialMergeSize,
        [MmprojKeys.ImageMean] = mean,
        [MmprojKeys.ImageStd] = std,
    };

    /// <summary>
    /// Norms, biases and the position table stay F32 as the converter keeps them; matrices take <paramref name="matrixType"/>,
    /// or F16 where their rows do not fill its blocks (the patch kernel's rows are one patch wide).
    /// </summary>
    public static GgmlType StoredType(string ggufName, long[] shape, GgmlType matrixType)
    {
        if (shape.Length < 2 || ggufName == "v.position_embd.weight") return GgmlType.F32;
        return shape[^1] % GgmlTypeInfo.BlockSize(matrixType) == 0 ? matrixType : GgmlType.F16;
    }
}
