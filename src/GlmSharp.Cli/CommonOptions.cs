using System.CommandLine;

namespace GlmSharp.Cli;

/// <summary>Options shared by several commands, declared once so their names and help text agree everywhere.</summary>
internal static class CommonOptions
{
    public static readonly Option<bool> Verbose = new("--verbose")
    {
        Description = "Print stack traces with errors",
        Recursive = true,
    };

    public static Option<string?> Model() => new("--model")
    {
        Description = $"Hugging Face model folder or .gguf file (default: the embedded model, {DefaultModel.RelativePath})",
    };

    public static Option<string> RequiredModel() => new("--model")
    {
        Description = "Hugging Face model folder or .gguf file",
        Required = true,
    };

    public static Option<int?> Context() => new("--context")
    {
        Description = "Context length in tokens (default: the model's, at most 4096)",
    };
}
