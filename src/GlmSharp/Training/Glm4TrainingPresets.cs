using GlmSharp.Errors;

namespace GlmSharp.Training;

/// <summary>Named model sizes for <c>glm train --size</c>; all GQA with half-rotary heads, as GLM-4.</summary>
public static class Glm4TrainingPresets
{
    public static IReadOnlyList<string> Names { get; } = ["tiny", "draft", "small", "base"];

    /// <summary>
    /// tiny ≈ 0.1M + embeddings (smoke tests); draft ≈ 1.6M (speculative decoding);
    /// small ≈ 6M; base ≈ 12M (with a 6144-token vocabulary). Embeddings are tied: at these sizes the vocabulary would otherwise dominate.
    /// </summary>
    public static Glm4TrainingShape For(string name, int vocabSize) => name switch
    {
        "tiny" => Shape(vocabSize, hidden: 64, layers: 2, heads: 4, kvHeads: 2, headDim: 16, intermediate: 176),
        "draft" => Shape(vocabSize, hidden: 128, layers: 4, heads: 4, kvHeads: 2, headDim: 32, intermediate: 384),
        "small" => Shape(vocabSize, hidden: 256, layers: 6, heads: 4, kvHeads: 2, headDim: 64, intermediate: 704),
        "base" => Shape(vocabSize, hidden: 384, layers: 6, heads: 6, kvHeads: 2, headDim: 64, intermediate: 1024),
        _ => throw new GlmException($"unknown model size '{name}'; choose one of {string.Join(", ", Names)}"),
    };

    private static Glm4TrainingShape Shape(int vocabSize, int hidden, int layers, int heads, int kvHeads, int headDim, int intermediate) => new()
    {
        VocabSize = vocabSize, HiddenSize = hidden, NumLayers = layers, NumHeads = heads, NumKvHeads = kvHeads,
        HeadDim = headDim, IntermediateSize = intermediate, TieWordEmbeddings = true, AttentionBias = true,
        PartialRotaryFactor = 0.5, RopeTheta = 10000, RmsNormEps = 1e-5, MaxPositions = 2048,
    };
}
