using System.Diagnostics;
using GlmSharp.Tests.Support;
using Xunit.Abstractions;

namespace GlmSharp.Tests.Fuzzing;

/// <summary>
/// A short run of the fuzzer (tools/GlmSharp.Fuzz) over every input kind: mutated GGUF, safetensors, index, config,
/// generation config, tokenizer, tokenizer config and chat text, each taken the whole way to generated tokens, and
/// request bodies posted to `glm serve`'s chat and text completions, whole and streamed. Any
/// untyped exception, crash or hang fails the suite with the reproducer's name; scripts/fuzz.sh runs the long version.
/// </summary>
[Trait("Fuzz", "smoke")]
public sealed class FuzzSmokeTests(ITestOutputHelper output)
{
    private const int Seconds = 40;

    [Fact]
    public async Task Every_Input_Kind_Survives_A_Short_Fuzzing_Run()
    {
        using var findings = new TempDirectory();
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { "exec", Path.Combine(AppContext.BaseDirectory, "GlmSharp.Fuzz.dll"), "fuzz", "--seconds", $"{Seconds}",
                     "--workers", "2", "--seed", "7", "--findings", findings.Path })
            start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(Seconds * 4));
        await process.WaitForExitAsync(limit.Token);
        string report = await stdout;
        output.WriteLine(report + await stderr);

        Assert.True(process.ExitCode == 0, $"the fuzzer found untyped exceptions, crashes or hangs:\n{report}");
        foreach (var target in new[] { "gguf-q8_0", "gguf-q4_0", "gguf-f16", "safetensors", "safetensors-index", "config", "generation-config", "tokenizer", "tokenizer-config", "chat", "gguf-moe", "moe-config",
                     "http-chat", "http-chat-stream", "http-completions", "http-completions-stream" })
            Assert.Contains($" {target}: ", report);
        // The summary line; a fast run also prints a progress line every 10,000 inputs before it.
        string summary = report.Split('\n').Single(line => line.Contains(" inputs in ", StringComparison.Ordinal));
        long inputs = long.Parse(summary.Split(' ', 2)[0], System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(inputs >= 200, $"only {inputs} inputs ran in {Seconds} s");
    }
}
