using GlmSharp.Errors;

namespace GlmSharp.Cli;

/// <summary>
/// The small model shipped in the repository's models/ folder, used when --model is not given: the one that writes the
/// better text by `glm evaluate` (models/README.md).
/// </summary>
internal static class DefaultModel
{
    public const string RelativePath = "models/glm-tiny-moe.gguf";

    public static string Resolve(string? requested)
    {
        if (requested is not null) return requested;
        foreach (var root in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
        {
            string candidate = Path.Combine(root, RelativePath);
            if (File.Exists(candidate) || Directory.Exists(candidate)) return candidate;
        }
        throw new GlmException($"no --model given and the default model was not found at {RelativePath} (next to the program or in the current folder)");
    }
}
