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
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.UseShellExecute = false;
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new GlmException($"could not start {start.FileName} to {purpose}");
        }
        catch (Win32Exception e)
        {
            throw new GlmException($"could not start {start.FileName} to {purpose}: {e.Message}");
        }
        using (process)
        {
            var errors = process.StandardError.ReadToEndAsync();
            string output = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            return (process.ExitCode, output, errors.Result);
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
        string last = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault() ?? "";
        if (exitCode != 0 || !last.StartsWith('{'))
        {
            // The run's own one-line error is its last line; llama.cpp logs to stderr before it.
            string reason = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault()?.Trim() ?? last;
            throw new GlmException($"the {engine} run failed (exit {exitCode}): {(reason.StartsWith("error: ", StringComparison.Ordinal) ? reason[7..] : reason)}");
        }
        return JsonSerializer.Deserialize<T>(last) ?? throw new GlmException($"the {engine} run printed no result");
    }
}
