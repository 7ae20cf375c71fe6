using System.ComponentModel;
using System.Diagnostics;
using System.Text.Json;
using GlmSharp.Errors;

namespace GlmSharp.Cli.Commands.Bench;

/// <summary>Runs a process to its end and keeps what it printed; one that cannot start is a one-line error.</summary>
internal static class ChildProcess
{
    public static (int ExitCode, string Stdout, string Stderr) Run(ProcessStartInfo start, string purpose)
    {
        using (var process = Start(start, purpose))
        {
            var errors = process.StandardError.ReadToEndAsync();
            string output = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            return (process.ExitCode, output, errors.Result);
        }
    }

    /// <summary>Starts <paramref name="start"/> with its output (and input, where the start asks for it) redirected; one that cannot start is a one-line error.</summary>
    public static Process Start(ProcessStartInfo start, string purpose)
    {
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.UseShellExecute = false;
        try
        {
            return Process.Start(start) ?? throw new GlmException($"could not start {start.FileName} to {purpose}");
        }
        catch (Win32Exception e)
        {
            throw new GlmException($"could not start {start.FileName} to {purpose}: {e.Message}");
        }
    }

    /// <summary>This program again (through dotnet when it runs as a dll), with <paramref name="arguments"/>.</summary>
    public static ProcessStartInfo Glm(IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath!);
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet")
            start.ArgumentList.Add(typeof(ChildProcess).Assembly.Location);
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        return start;
    }

    /// <summary>One engine's run, whose result is the JSON object on its last stdout line; a failed run is a one-line error.</summary>
    public static T RunEngine<T>(string engine, ProcessStartInfo start)
    {
        var (exitCode, stdout, stderr) = Run(start, $"run {engine}");
        return EngineResult<T>(engine, exitCode, stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault() ?? "", stderr);
    }

    /// <summary>The JSON object an engine's run printed as its last stdout line, or a one-line error with the run's own reason.</summary>
    public static T EngineResult<T>(string engine, int exitCode, string lastLine, string stderr)
    {
        if (exitCode != 0 || !lastLine.StartsWith('{')) throw Failure(engine, exitCode, lastLine, stderr);
        return JsonSerializer.Deserialize<T>(lastLine) ?? throw new GlmException($"the {engine} run printed no result");
    }

    public static GlmException Failure(string engine, int exitCode, string lastLine, string stderr)
    {
        // The run's own one-line error is its last line; llama.cpp logs to stderr before it.
        string reason = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault()?.Trim() ?? lastLine;
        return new GlmException($"the {engine} run failed (exit {exitCode}): {(reason.StartsWith("error: ", StringComparison.Ordinal) ? reason[7..] : reason)}");
    }
}
