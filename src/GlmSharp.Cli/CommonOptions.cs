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
}
