using System.CommandLine;
using System.CommandLine.Invocation;
using GlmSharp.Errors;

namespace GlmSharp.Cli;

/// <summary>
/// Parses the command line and runs the command. A value the command line refuses (see <see cref="OptionRules"/>) and
/// our own exceptions both become one line "error: …" and exit code 1; the stack trace is shown only with --verbose.
/// </summary>
internal static class CliRunner
{
    public static async Task<int> InvokeAsync(RootCommand root, string[] args)
    {
        var parse = root.Parse(args);
        if (parse.Action is ParseErrorAction)
        {
            foreach (var error in parse.Errors) Console.Error.WriteLine($"error: {error.Message}");
            return 1;
        }
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
