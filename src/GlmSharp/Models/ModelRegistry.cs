using GlmSharp.Errors;
using GlmSharp.Models.Architectures;

namespace GlmSharp.Models;

/// <summary>The architectures GlmSharp runs, found by Hugging Face model_type or by GGUF general.architecture.</summary>
public static class ModelRegistry
{
    public static IReadOnlyList<IArchitecture> Architectures { get; } = [new Glm(), new Glm4(), new Glm4v(), new Glm4Moe(), new Glm4vMoe(), new Glm4MoeLite(), new GlmMoeDsa()];

    public static IArchitecture ByModelType(string modelType, string origin) =>
        Architectures.FirstOrDefault(a => a.HfModelTypes.Contains(modelType))
        ?? throw new UnsupportedModelException(
            $"{origin}: model_type '{modelType}' is not supported (supported: {string.Join(", ", Architectures.SelectMany(a => a.HfModelTypes))})");

    /// <summary>The first architecture llama.cpp names so: glm4v's text model is a glm4 GGUF and loads as <see cref="Glm4"/>.</summary>
    public static IArchitecture ByGgufArchitecture(string architecture, string origin) =>
        Architectures.FirstOrDefault(a => a.GgufArchitecture == architecture)
        ?? throw new UnsupportedModelException(
            $"{origin}: general.architecture '{architecture}' is not supported (supported: {string.Join(", ", Architectures.Select(a => a.GgufArchitecture))})");
}
