using System.CommandLine;
using GlmSharp.Errors;

namespace GlmSharp.Cli;

/// <summary>
/// Runs the parsed command and turns our own exceptions into a one-line message and a non-zero exit code;
/// the stack trace is shown only with --verbose.
/// </summary>
internal static class CliRunner
{
    public static async Task<int> InvokeAsync(RootCommand root, string[] args)
    {
        var parse = root.Parse(args);
        bool verbose = parse.GetValue(CommonOptions.Verbose);
        try
        {
            return await parse.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception e) when (e is GlmException or IOException or UnauthorizedAccessException or OperationCanceledException)
        {
            Console.Out.Flush();
            Console.Error.WriteLine($"error: {e.Message}");
            if (verbose) Console.Error.WriteLine(e);
            return e is OperationCanceledException ? 130 : 1;
        }
    }
}
