using System.ComponentModel;
using System.Diagnostics;
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
}
