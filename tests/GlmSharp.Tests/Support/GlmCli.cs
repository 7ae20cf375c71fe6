using System.Diagnostics;

namespace GlmSharp.Tests.Support;

/// <summary>Runs the real `glm` program in its own process, as a user would.</summary>
public static class GlmCli
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    public static Result Run(params string[] args) => RunWithInput("", args);

    public static Result RunWithInput(string standardInput, params string[] args) => RunFrom(AppContext.BaseDirectory, Environment.CurrentDirectory, standardInput, args);

    /// <summary>The glm.dll in <paramref name="programFolder"/>, started in <paramref name="workingFolder"/>.</summary>
    public static Result RunFrom(string programFolder, string workingFolder, string standardInput, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingFolder,
        };
        start.ArgumentList.Add("exec");
        start.ArgumentList.Add(Path.Combine(programFolder, "glm.dll"));
        foreach (var a in args) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        process.StandardInput.Write(standardInput);
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"glm {string.Join(' ', args)} did not finish in 2 minutes");
        }
        return new Result(process.ExitCode, stdout.Result, stderr.Result);
    }
}
