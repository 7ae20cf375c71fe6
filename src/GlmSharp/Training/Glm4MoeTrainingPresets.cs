using GlmSharp.Errors;

namespace GlmSharp.Training;

/// <summary>
/// Named glm4_moe sizes for <c>glm train --arch glm4_moe --size</c>: GLM-4.5's layout in small (one dense lead layer,
/// sigmoid-routed experts plus one shared expert, a NextN layer), embeddings tied as in the small glm4 presets.
/// </summary>
public static class Glm4MoeTrainingPresets
{
    public static IReadOnlyList<string> Names { get; } = ["moe-tiny", "moe-small"];

    /// <summary>moe-tiny ≈ 0.3M + embeddings (smoke tests); moe-small ≈ 4.6M with a 6144-token vocabulary, 9 MB in BF16.</summary>
    public static Glm4MoeTrainingShape For(string name, int vocabSize) => name switch
    {
        "moe-tiny" => Shape(vocabSize, hidden: 64, layers: 2, headDim: 16, dense: 176, experts: 8, perToken: 2, expertInner: 32),
        "moe-small" => Shape(vocabSize, hidden: 192, layers: 4, headDim: 48, dense: 512, experts: 8, perToken: 2, expertInner: 128),
        _ => throw new GlmException($"unknown glm4_moe size '{name}'; choose one of {string.Join(", ", Names)}"),
    };

    private static Glm4MoeTrainingShape Shape(int vocabSize, int hidden, int layers, int headDim, int dense, int experts, int perToken, int expertInner) => new()
    {
        Attention = new Glm4TrainingShape
        {
            VocabSize = vocabSize, HiddenSize = hidden, NumLayers = layers, NumHeads = 4, NumKvHeads = 2, HeadDim = headDim,
            IntermediateSize = dense, TieWordEmbeddings = true, AttentionBias = true, PartialRotaryFactor = 0.5, RopeTheta = 10000,
            RmsNormEps = 1e-5, MaxPositions = 2048,
        },
        Experts = experts, ExpertsPerToken = perToken, ExpertIntermediateSize = expertInner, SharedExperts = 1, FirstDenseLayers = 1,
        RoutedScalingFactor = 1.0, NormTopkProb = true, NextNLayers = 1,
    };
}
