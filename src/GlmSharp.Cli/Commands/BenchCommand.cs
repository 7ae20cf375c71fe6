using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using GlmSharp.Cli.Commands.Bench;
using GlmSharp.Errors;
using GlmSharp.Kernels;
using GlmSharp.Models;
using GlmSharp.Tensors;

namespace GlmSharp.Cli.Commands;

/// <summary>
/// <c>glm bench</c>: prefill and decode speed of GlmSharp, optionally against llama.cpp on the same file with the
/// same threads and token ids. Each run is its own process (so load time and peak RSS belong to one engine), and
/// the engines alternate A B A B so that the VM's drifting memory bandwidth hits both alike.
/// </summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var model = new Option<string?>("--model") { Description = "GGUF file to benchmark" };
        var synthetic = new Option<string?>("--synthetic") { Description = $"write a random-weight model of known dimensions first ({string.Join(", ", SyntheticModel.Names)})" };
        var type = new Option<string>("--type") { Description = $"matrix type of the synthetic model ({string.Join(", ", QuantizationScheme.Names)})", DefaultValueFactory = _ => "q8_0" };
        var output = new Option<string?>("--out") { Description = "where to keep the synthetic model (default: a temporary file, deleted afterwards)" };
        var threads = new Option<int>("--threads") { Description = "compute threads for both engines", DefaultValueFactory = _ => Environment.ProcessorCount };
        var prompt = new Option<int>("--prompt") { Description = "prompt tokens to prefill", DefaultValueFactory = _ => 512 };
        var gen = new Option<int>("--gen") { Description = "tokens to decode one at a time", DefaultValueFactory = _ => 128 };
        var runs = new Option<int>("--runs") { Description = "timed runs per engine", DefaultValueFactory = _ => 5 };
        var versus = new Option<bool>("--vs-llamacpp") { Description = "also run llama.cpp (LLamaSharp 0.30.0), interleaved" };
        var cacheType = CommonOptions.CacheType();
        var json = new Option<bool>("--json") { Description = "print one JSON object of medians" };
        var engine = new Option<string?>("--engine") { Description = "run one engine once and print its result as JSON (used by the benchmark itself)", Hidden = true };

        var command = new Command("bench", "Prefill and decode speed, load time and peak memory, optionally against llama.cpp")
        {
            model, synthetic, type, output, threads, prompt, gen, runs, cacheType, versus, json, engine,
        };
        command.SetAction(parse =>
        {
            int threadCount = parse.GetValue(threads), promptTokens = parse.GetValue(prompt), genTokens = parse.GetValue(gen);
            if (threadCount < 1 || promptTokens < 1 || genTokens < 1 || parse.GetValue(runs) < 1)
                throw new GlmException("--threads, --prompt, --gen and --runs must be at least 1");
            var cache = CommonOptions.ParseCacheType(parse.GetValue(cacheType)!);
            if (parse.GetValue(engine) is { } single)
            {
                var result = Environment.GetEnvironmentVariable("GLM_PARALLEL") is string par ? ParallelGlmSharpRun.Run(RequireModel(parse.GetValue(model)), threadCount, promptTokens, genTokens, cache, int.Parse(par)) : EngineRun.Run(single, RequireModel(parse.GetValue(model)), threadCount, promptTokens, genTokens, cache);
                Console.WriteLine(JsonSerializer.Serialize(result));
                return 0;
            }
            return Orchestrate(parse.GetValue(model), parse.GetValue(synthetic), QuantizationScheme.Parse(parse.GetValue(type)!), parse.GetValue(output),
                threadCount, promptTokens, genTokens, parse.GetValue(runs), cache, parse.GetValue(versus), parse.GetValue(json));
        });
        return command;
    }

    private static string RequireModel(string? path) =>
        path ?? throw new GlmException("give --model FILE.gguf or --synthetic NAME");

    private static int Orchestrate(string? modelPath, string? synthetic, QuantizationScheme type, string? output,
        int threads, int prompt, int gen, int runs, KvCacheType cacheType, bool versus, bool json)
    {
        string? temporary = null;
        if (synthetic is not null)
        {
            modelPath = output ?? (temporary = Path.Combine(Path.GetTempPath(), $"glm-bench-{synthetic}-{type.Name}-{Environment.ProcessId}.gguf"));
            WriteSynthetic(synthetic, type, modelPath);
        }
        string model = RequireModel(modelPath);
        if (!File.Exists(model)) throw new ModelFormatException($"{model}: no such file");
        try
        {
            // Write-back of a freshly written multi-GB file steals CPU from the timed runs; flush it first.
            if (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS()) Process.Start("sync")?.WaitForExit();
            var ours = new List<TimedRun>();
            var llama = versus ? new List<TimedRun>() : null;
            for (int run = 0; run < runs; run++)
            {
                if (!json) Console.Error.WriteLine($"run {run + 1}/{runs} (each after a read-bandwidth probe)");
                ours.Add(ProbedRun(EngineRun.GlmSharp));
                llama?.Add(ProbedRun(EngineRun.LlamaCpp));
            }
            var report = new BenchReport(Path.GetFileName(model), threads, cacheType.Name(), SyntheticModel.DecodeBytesPerToken(model), ours, llama);
            if (json) Console.WriteLine(report.ToJson());
            else report.Print(Console.Out);
            return 0;

            TimedRun ProbedRun(string engine)
            {
                double bandwidth = BandwidthProbe.Measure(threads);
                return new TimedRun(RunChild(engine, model, threads, prompt, gen, cacheType), bandwidth);
            }
        }
        finally
        {
            if (temporary is not null) File.Delete(temporary);
        }
    }

    private static void WriteSynthetic(string name, QuantizationScheme type, string path)
    {
        int shown = -1;
        SyntheticModel.Write(name, type, path, fraction =>
        {
            int percent = (int)(fraction * 100);
            if (percent == shown) return;
            shown = percent;
            int filled = percent / 5;
            Console.Error.Write($"\rwriting {name} {type.Name} [{new string('#', filled)}{new string('.', 20 - filled)}] {percent,3}%");
        });
        Console.Error.WriteLine();
    }

    private static EngineResult RunChild(string engine, string model, int threads, int prompt, int gen, KvCacheType cacheType)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true, RedirectStandardError = true };
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet")
            start.ArgumentList.Add(typeof(BenchCommand).Assembly.Location);
        foreach (var argument in new[] { "bench", "--engine", engine, "--model", model, "--threads", $"{threads}", "--prompt", $"{prompt}", "--gen", $"{gen}", "--cache-type", cacheType.Name() })
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start) ?? throw new GlmException($"could not start the {engine} benchmark process");
        var errors = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        string last = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault() ?? "";
        if (process.ExitCode != 0 || !last.StartsWith('{'))
            throw new GlmException($"the {engine} run failed (exit {process.ExitCode}): {errors.Result.Trim()} {last}");
        return JsonSerializer.Deserialize<EngineResult>(last) ?? throw new GlmException($"the {engine} run printed no result");
    }
}
