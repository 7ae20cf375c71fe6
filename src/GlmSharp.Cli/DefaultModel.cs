using GlmSharp.Errors;

namespace GlmSharp.Cli;

/// <summary>The small model shipped in the repository's models/ folder, used when --model is not given.</summary>
internal static class DefaultModel
{
    public const string RelativePath = "models/glm-tiny-chat";

    public static string Resolve(string? requested)
    {
        if (requested is not null) return requested;
        foreach (var root in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
        {
            string candidate = Path.Combine(root, RelativePath);
            if (Directory.Exists(candidate)) return candidate;
        }
        throw new GlmException($"no --model given and the default model was not found at {RelativePath} (next to the program or in the current folder)");
    }
}
