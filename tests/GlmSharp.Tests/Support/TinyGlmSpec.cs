using GlmSharp.Configs;

namespace GlmSharp.Tests.Support;

/// <summary>The shape of a tiny random GLM used to test one property (GQA ratio, rotary fraction, bias, tying …).</summary>
public sealed record TinyGlmSpec(
    string ModelType,
    int Vocab,
    int Hidden,
    int Layers,
    int Heads,
    int KvHeads,
    int HeadDim,
    int Intermediate,
    double PartialRotary,
    bool Bias,
    bool Tied,
    int Context = 96,
    double RopeTheta = 10000,
    double RmsEps = 1e-5,
    YarnScaling? Yarn = null)
{
    public string GgufArchitecture => ModelType == "glm4" ? "glm4" : "chatglm";

    /// <summary>A reproducible prompt of random token ids from this model's vocabulary.</summary>
    public int[] RandomPrompt(int length, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, length).Select(_ => random.Next(Vocab)).ToArray();
    }

    public override string ToString() =>
        $"{ModelType} h{Hidden} heads{Heads}/{KvHeads} d{HeadDim} rot{PartialRotary} {(Bias ? "bias" : "nobias")} {(Tied ? "tied" : "untied")}"
        + (Yarn is null ? "" : $" yarn×{Yarn.Factor} of {Yarn.OriginalContext}");
}
