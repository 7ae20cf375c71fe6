using System.CommandLine;
using GlmSharp.Errors;
using GlmSharp.Kernels;

namespace GlmSharp.Cli;

/// <summary>Options shared by several commands, declared once so their names, help text and rules agree everywhere.</summary>
internal static class CommonOptions
{
    public static readonly Option<bool> Verbose = new("--verbose")
    {
        Description = "Print stack traces with errors",
        Recursive = true,
    };

    public static Option<string?> Model() => new Option<string?>("--model")
    {
        Description = $"Hugging Face model folder or .gguf file (default: the embedded model, {DefaultModel.RelativePath})",
    }.ExistingFileOrFolder();

    /// <summary>The upper limit is the model's (max_position_embeddings); the engine checks it once the model is loaded.</summary>
    public static Option<int?> Context() => new Option<int?>("--context")
    {
        Description = "Context length in tokens (default: the model's, at most 4096)",
    }.Within(NumericRange.AtLeast(1));

    public static Option<string> CacheType() => new Option<string>("--cache-type")
    {
        Description = $"Element type of the KV cache: {string.Join(", ", KvCacheTypes.Names)} (q8_0 needs a head size that is a multiple of 32)",
        DefaultValueFactory = _ => KvCacheType.F16.Name(),
    }.OneOf(KvCacheTypes.Names);

    /// <summary>The cache type an option value names; a name we do not know is a one-line error listing the ones we do.</summary>
    public static KvCacheType ParseCacheType(string text) =>
        KvCacheTypes.Parse(text) ?? throw new GlmException($"--cache-type {text}: must be one of {string.Join(", ", KvCacheTypes.Names)}");
}
