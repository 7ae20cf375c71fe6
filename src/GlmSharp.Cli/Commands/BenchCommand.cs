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
/// the engines alternate A B A B so that the VM's drifting memory bandwidth hits both alike. llama.cpp runs in the
/// bench tool under bench/, so that glm itself carries no llama.cpp binaries.
/// </summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var model = new Option<string?>("--model") { Description = "GGUF file to benchmark" };
        var synthetic = new Option<string?>("--synthetic") { Description = $"write a random-weight model of known dimensions first ({string.Join(", ", SyntheticModel.Names)})" };
        var type = new Option<string>("--type") { Description = $"matrix type of the synthetic model ({string.Join(", ", SyntheticType.Names)}; the IQ types through llama.cpp's quantizer)", DefaultValueFactory = _ => "q8_0" };
        var output = new Option<string?>("--out") { Description = "where to keep the synthetic model (default: a temporary file, deleted afterwards)" };
        var layers = new Option<int?>("--layers") { Description = "keep only the first N layers of the synthetic model (a large model's layer shapes in a file that fits)" }
            .Within(NumericRange.AtLeast(1));
        var heads = new Option<int?>("--heads") { Description = $"attention heads of a synthetic MLA model ({string.Join(", ", SyntheticModel.MlaNames)}): fewer make a long context affordable to fill" }
            .Within(NumericRange.AtLeast(1));
        var int8Indexer = new Option<bool>("--int8-indexer") { Description = "GlmSharp caches a DSA model's indexer keys as q8_0 and scores them in int8 dot products (llama.cpp keeps its fp32 indexer)" };
        var depth = new Option<string?>("--depth") { Description = "decode after a context of D tokens, for each D of a comma-separated list (one row per depth); replaces --prompt" };
        var run = new RunOptions();
        var runs = new Option<int>("--runs") { Description = "timed runs per engine", DefaultValueFactory = _ => 5 };
        var versus = new Option<bool>("--vs-llamacpp") { Description = $"also run llama.cpp (LLamaSharp 0.30.0), interleaved; builds {LlamaCppBenchTool.Project} on first use" };
        var json = new Option<bool>("--json") { Description = "print one JSON object of medians" };
        var serve = new Option<bool>("--serve") { Description = "time GlmSharp through glm serve: --parallel HTTP clients stream one completion each (TTFT and TPOT percentiles); llama.cpp runs its batched decode" };
        var mtp = new Option<bool>("--mtp") { Description = "GlmSharp drafts with the model's NextN layer (greedy output; reports acceptance and tokens per step); one sequence" };
        var draftTokens = new Option<int>("--draft-tokens") { Description = "tokens the NextN layer drafts per step with --mtp", DefaultValueFactory = _ => 1 };
        var vision = new Option<bool>("--vision") { Description = "time the glm4v vision encoder instead: one image encode per run, against libmtmd with --vs-llamacpp, at the same patch count" };
        var visionRun = new VisionRunOptions();
        var mmproj = new Option<string?>("--mmproj") { Description = "glm4v mmproj GGUF to time with --vision (default: a random one at GLM-4.1V's vision shape, matrices of --type, f16 unless given)" };
        var visionBlocks = new Option<int?>("--vision-blocks") { Description = "keep only the first N of the random mmproj's 24 blocks (the per-block time at a fraction of the run)" };
        var engine = new Option<string?>("--engine") { Description = "run GlmSharp once and print its result as JSON (used by the benchmark itself)", Hidden = true };

        var command = new Command("bench", "Prefill and decode speed, load time and peak memory, optionally against llama.cpp")
        {
            model, synthetic, type, output, layers, heads, depth, int8Indexer,
        };
        foreach (var option in run.All) command.Options.Add(option);
        foreach (var option in (Option[])[runs, versus, json, serve, mtp, draftTokens, vision, mmproj, visionBlocks, .. visionRun.All, engine]) command.Options.Add(option);
        command.SetAction(parse =>
        {
            var settings = run.Read(parse);
            bool Given(Option option) => parse.GetResult(option) is { Implicit: false };
            if (parse.GetValue(vision))
            {
                foreach (var option in new Option[] { model, synthetic, output, layers, heads, depth, int8Indexer, serve, mtp, draftTokens, run.Prompt, run.Gen, run.Parallel, run.CacheType })
                    if (Given(option)) throw new GlmException($"{option.Name} is an option of the text benchmark; --vision times the image encoder");
                if (parse.GetValue(engine) is { } visionEngine)
                {
                    if (visionEngine != EngineRun.GlmSharp) throw new GlmException($"--engine {visionEngine}: only {EngineRun.GlmSharp} runs in glm");
                    string file = parse.GetValue(mmproj) ?? throw new GlmException("give --mmproj FILE.gguf");
                    Console.WriteLine(JsonSerializer.Serialize(VisionEngineRun.Run(file, visionRun.Read(parse, settings.Threads))));
                    return 0;
                }
                return RunVision(parse.GetValue(visionRun.ImageSize), parse.GetValue(mmproj), Given(visionBlocks) ? parse.GetValue(visionBlocks) : null,
                    Given(type) ? parse.GetValue(type) : null, settings.Threads, parse.GetValue(runs), parse.GetValue(versus), parse.GetValue(json));
            }
            foreach (var option in new Option[] { mmproj, visionBlocks, visionRun.ImageSize })
                if (Given(option)) throw new GlmException($"{option.Name} applies to --vision runs");
            var scheme = SyntheticType.Parse(parse.GetValue(type)!);
            int? drafting = parse.GetValue(mtp) ? parse.GetValue(draftTokens) : null;
            if (drafting is { } k && (k < 1 || k > Inference.SpeculativeGenerator.MaxDraftTokens))
                throw new GlmException($"--draft-tokens {k}: must be from 1 to {Inference.SpeculativeGenerator.MaxDraftTokens}");
            if (drafting is not null && parse.GetValue(serve)) throw new GlmException("--mtp and --serve time different things; give one");
            if (drafting is not null && settings.Parallel != 1) throw new GlmException($"--mtp drafts for one sequence; --parallel {settings.Parallel} is not supported with it");
            bool int8 = parse.GetValue(int8Indexer);
            if (int8 && (parse.GetValue(serve) || drafting is not null)) throw new GlmException("--int8-indexer applies to plain decoding runs; it does not combine with --serve or --mtp");
            int[]? depths = parse.GetValue(depth) is { } depthList ? DecodeDepths.Parse(depthList) : null;
            if (depths is not null && (parse.GetValue(serve) || drafting is not null)) throw new GlmException("--depth times plain decoding; it does not combine with --serve or --mtp");
            if (settings.DecodeRepeats > 1 && (parse.GetValue(serve) || drafting is not null))
                throw new GlmException("--decode-repeats times plain decoding; it does not combine with --serve or --mtp");
            if (depths is not null && parse.GetResult(run.Prompt) is { Implicit: false }) throw new GlmException("--depth sets each run's prompt; give --depth or --prompt, not both");
            if (settings.Lockstep && parse.GetValue(engine) is null) throw new GlmException("--lockstep belongs to the runs glm bench starts itself");
            if (parse.GetValue(engine) is { } single)
            {
                if (single != EngineRun.GlmSharp) throw new GlmException($"--engine {single}: only {EngineRun.GlmSharp} runs in glm");
                string file = ExistingFile(parse.GetValue(model));
                var result = parse.GetValue(serve) ? ServeRun.Run(file, settings).GetAwaiter().GetResult()
                    : drafting is { } draft ? MtpRun.Run(file, settings, draft) : EngineRun.Run(file, settings, int8);
                Console.WriteLine(JsonSerializer.Serialize(result));
                return 0;
            }
            int runCount = parse.GetValue(runs);
            if (runCount < 1) throw new GlmException($"--runs {runCount}: must be at least 1");
            string? modelPath = parse.GetValue(model), syntheticName = parse.GetValue(synthetic);
            if (syntheticName is null)
            {
                if (parse.GetValue(output) is not null) throw new GlmException("--out names the file --synthetic writes; give it with --synthetic");
                if (parse.GetResult(type) is { Implicit: false }) throw new GlmException("--type is the matrix type of a --synthetic model; a --model file keeps its own");
                if (parse.GetValue(layers) is not null) throw new GlmException("--layers shortens a --synthetic model; a --model file keeps its own");
                if (parse.GetValue(heads) is not null) throw new GlmException("--heads changes a --synthetic model; a --model file keeps its own");
                ExistingFile(modelPath);
            }
            else
            {
                if (modelPath is not null) throw new GlmException("give --model FILE.gguf or --synthetic NAME, not both");
                SyntheticModel.Config(syntheticName, parse.GetValue(layers), parse.GetValue(heads));
            }
            bool llamaQuantizes = syntheticName is not null && scheme.LlamaCppFileType is not null;
            var llama = parse.GetValue(versus) || llamaQuantizes ? LlamaCppBenchTool.Prepare(Environment.CurrentDirectory, AppContext.BaseDirectory) : null;
            if (syntheticName is not null)
            {
                string path = parse.GetValue(output) ?? Path.Combine(Path.GetTempPath(), $"glm-bench-{syntheticName}-{scheme.Name}-{Environment.ProcessId}.gguf");
                WriteSynthetic(syntheticName, parse.GetValue(layers), parse.GetValue(heads), scheme, path, llama, settings.Threads);
                modelPath = path;
            }
            bool temporary = syntheticName is not null && parse.GetValue(output) is null;
            // What GlmSharp's runs do beyond the common run settings, as options of its one-run mode.
            string[] mode =
            [
                .. parse.GetValue(serve) ? ["--serve"] : drafting is { } draftCount ? ["--mtp", "--draft-tokens", $"{draftCount}"] : (string[])[],
                .. int8 ? ["--int8-indexer"] : (string[])[],
            ];
            if (depths is not null)
                return OrchestrateDepths(modelPath!, temporary, settings, depths, runCount, parse.GetValue(versus) ? llama : null, parse.GetValue(json), mode);
            return Orchestrate(modelPath!, temporary, settings, runCount, parse.GetValue(versus) ? llama : null, parse.GetValue(json), mode);
        });
        return command;
    }

    /// <param name="typeName">The random mmproj's matrix type, when --type was given.</param>
    private static int RunVision(string? sizeList, string? mmproj, int? blocks, string? typeName, int threads, int runs, bool versus, bool json)
    {
        var sizes = ImageSizes.Parse(sizeList ?? throw new GlmException("--vision needs --image-size WIDTHxHEIGHT[,WIDTHxHEIGHT...]"));
        if (runs < 1) throw new GlmException($"--runs {runs}: must be at least 1");
        Configs.Glm4vVisionConfig config;
        GgmlType? matrixType = null;
        if (mmproj is not null)
        {
            if (blocks is not null) throw new GlmException("--vision-blocks shortens the random mmproj; a --mmproj file keeps its own");
            if (typeName is not null) throw new GlmException("--type is the matrix type of the random mmproj; a --mmproj file keeps its own");
            config = SyntheticVision.ReadConfig(mmproj);
        }
        else
        {
            config = SyntheticVision.Config(blocks);
            matrixType = SyntheticVision.ParseType(typeName ?? "f16");
        }
        var llama = versus ? LlamaCppBenchTool.Prepare(Environment.CurrentDirectory, AppContext.BaseDirectory) : null;
        return new VisionBench(threads, runs, json, llama).Run(sizes, mmproj, config, matrixType);
    }

    private static string ExistingFile(string? path)
    {
        if (path is null) throw new GlmException("give --model FILE.gguf or --synthetic NAME");
        return File.Exists(path) ? path : throw new ModelFormatException($"{path}: no such file");
    }

    /// <param name="temporary">Delete <paramref name="model"/> afterwards (a synthetic model without --out).</param>
    /// <param name="mode">GlmSharp's own options of its one-run mode (<see cref="GlmSharpRunStart"/>).</param>
    private static int Orchestrate(string model, bool temporary, RunSettings run, int runs, LlamaCppBenchTool? llamaTool, bool json, string[] mode)
    {
        try
        {
            FlushWrites();
            var (ours, llama) = Interleave(model, run, runs, llamaTool, json ? null : "", mode);
            var report = new BenchReport(Path.GetFileName(model), run, SyntheticModel.DecodeBytesPerStep(model, run.Parallel), ours, llama);
            if (json) Console.WriteLine(report.ToJson());
            else report.Print(Console.Out);
            return 0;
        }
        finally
        {
            if (temporary) File.Delete(model);
        }
    }

    /// <summary>The runs of every depth, shallowest first, each depth's runs interleaved as <see cref="Orchestrate"/>'s are.</summary>
    private static int OrchestrateDepths(string model, bool temporary, RunSettings run, int[] depths, int runs, LlamaCppBenchTool? llamaTool, bool json, string[] mode)
    {
        try
        {
            FlushWrites();
            var rows = depths.Select(d =>
            {
                var (ours, llama) = Interleave(model, run with { Prompt = d }, runs, llamaTool, json ? null : $"depth {d}, ", mode);
                return new DecodeDepths.Row(d, ours, llama);
            }).ToArray();
            var report = new DecodeDepths(Path.GetFileName(model), run, rows);
            if (json) Console.WriteLine(report.ToJson());
            else report.Print(Console.Out);
            return 0;
        }
        finally
        {
            if (temporary) File.Delete(model);
        }
    }

    /// <summary>Write-back of a freshly written multi-GB file steals CPU from the timed runs; flush it first.</summary>
    internal static void FlushWrites()
    {
        if (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS()) Process.Start("sync")?.WaitForExit();
    }

    /// <summary>
    /// GlmSharp's run i, then llama.cpp's (when it runs), each after a bandwidth probe; with --decode-repeats, the two
    /// runs of a pair alternate their decode rounds (<see cref="LockstepPair"/>). Progress lines go to stderr after
    /// <paramref name="progress"/> unless it is null.
    /// </summary>
    private static (List<TimedRun> Ours, List<TimedRun>? Llama) Interleave(string model, RunSettings run, int runs, LlamaCppBenchTool? llamaTool, string? progress,
        string[] mode)
    {
        var ours = new List<TimedRun>();
        var llama = llamaTool is null ? null : new List<TimedRun>();
        bool lockstep = llamaTool is not null && run.DecodeRepeats > 1;
        for (int i = 0; i < runs; i++)
        {
            if (lockstep)
            {
                if (progress is not null) Console.Error.WriteLine($"{progress}run {i + 1}/{runs} (both engines prefill, then their decode rounds alternate)");
                var stepped = run with { Lockstep = true };
                var (first, second) = LockstepPair.Run(EngineRun.GlmSharp, GlmSharpRunStart(model, stepped, mode), "llama.cpp", llamaTool!.RunStart(model, stepped),
                    run.DecodeRepeats, () => BandwidthProbe.Measure(run.Threads));
                ours.Add(first);
                llama!.Add(second);
                continue;
            }
            if (progress is not null) Console.Error.WriteLine($"{progress}run {i + 1}/{runs} (each after a read-bandwidth probe)");
            ours.Add(ProbedRun(EngineRun.GlmSharp, GlmSharpRunStart(model, run, mode)));
            if (llamaTool is not null) llama!.Add(ProbedRun("llama.cpp", llamaTool.RunStart(model, run)));
        }
        return (ours, llama);

        TimedRun ProbedRun(string engine, ProcessStartInfo start)
        {
            double bandwidth = BandwidthProbe.Measure(run.Threads);
            return new TimedRun(RunChild(engine, start), bandwidth);
        }
    }

    /// <param name="llama">Requantizes the written file where <paramref name="type"/> is a type only llama.cpp writes.</param>
    private static void WriteSynthetic(string name, int? layers, int? heads, SyntheticType type, string path, LlamaCppBenchTool? llama, int threads)
    {
        if (type.LlamaCppFileType is not { } fileType)
        {
            WriteSynthetic(name, layers, heads, type.Written, path);
            return;
        }
        string source = path + ".q8_0-source";
        try
        {
            WriteSynthetic(name, layers, heads, type.Written, source);
            Console.Error.WriteLine($"quantizing to {type.Name} with llama.cpp's quantizer ({fileType}, no importance matrix)");
            llama!.Quantize(source, path, fileType, threads);
        }
        finally
        {
            File.Delete(source);
        }
    }

    private static void WriteSynthetic(string name, int? layers, int? heads, QuantizationScheme type, string path)
    {
        int shown = -1;
        SyntheticModel.Write(name, layers, heads, type, path, fraction =>
        {
            int percent = (int)(fraction * 100);
            if (percent == shown) return;
            shown = percent;
            int filled = percent / 5;
            Console.Error.Write($"\rwriting {name} {type.Name} [{new string('#', filled)}{new string('.', 20 - filled)}] {percent,3}%");
        });
        Console.Error.WriteLine();
    }

    /// <summary>This program again, in the hidden one-run mode.</summary>
    private static ProcessStartInfo GlmSharpRunStart(string model, RunSettings run, string[] mode) =>
        ChildProcess.Glm(["bench", "--engine", EngineRun.GlmSharp, "--model", model, .. run.Arguments, .. mode]);

    private static EngineResult RunChild(string engine, ProcessStartInfo start) => ChildProcess.RunEngine<EngineResult>(engine, start);
}
