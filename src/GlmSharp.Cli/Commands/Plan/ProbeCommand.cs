using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using GlmSharp.Planner.Probe;
using Spectre.Console;

namespace GlmSharp.Cli.Commands.Plan;

internal static class ProbeCommand
{
    public static Command Create()
    {
        // Each thread streams its own 128 MiB buffer; more threads than cores measure contention, not the machine.
        var threads = new Option<int>("--threads") { Description = "Threads to run the kernels on", DefaultValueFactory = _ => Environment.ProcessorCount }
            .Within(NumericRange.Closed(1, Environment.ProcessorCount));
        var seconds = new Option<double>("--seconds") { Description = "Length of each timed run (three runs per kernel, best kept)", DefaultValueFactory = _ => 0.25 }
            .Within(NumericRange.Above(0));
        var write = new Option<string?>("--write") { Description = "Write a catalog file with this machine as chip 'cpu-probed' and system 'probed-machine'" }.WritableFile();
        var command = new Command("probe", "Measure this machine's read bandwidth, FP32 FMA and INT8 rates as a planner chip") { threads, seconds, write, PlanOptions.Json };
        command.SetAction(parse =>
        {
            var p = MachineProbe.Measure(parse.GetValue(threads), parse.GetValue(seconds));
            if (parse.GetValue(write) is { } path)
                File.WriteAllText(path, CatalogJson(p, DateTime.UtcNow.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)));
            if (parse.GetValue(PlanOptions.Json)) { Console.WriteLine(JsonSerializer.Serialize(p, PlanOptions.JsonOut)); return 0; }
            var t = new Table().AddColumns("quantity", "measured", "kernel");
            t.AddRow("read bandwidth", $"{p.ReadGBPerSecond:F1} GB/s", "8 × 256-bit adds over 128 MiB per thread");
            t.AddRow("fp32 FMA", $"{p.Fp32Gflops:F0} GFLOP/s", p.Fp32Kernel);
            t.AddRow("int8 dot", p.Int8Gops > 0 ? $"{p.Int8Gops:F0} GOP/s" : "-", p.Int8Kernel);
            t.AddRow("threads", p.Threads.ToString(CultureInfo.InvariantCulture), "barrier start, best of 3");
            AnsiConsole.Write(t);
            if (parse.GetValue(write) is { } written) AnsiConsole.MarkupLine($"wrote {Markup.Escape(written)} (use with --catalog)");
            return 0;
        });
        return command;
    }

    /// <summary>A catalog file in the shipped format; BF16 carries the FP32 rate because the engine computes in FP32.</summary>
    public static string CatalogJson(MachinePeaks p, string date)
    {
        var peaks = new Dictionary<string, object>
        {
            ["bf16"] = new Dictionary<string, object> { ["value"] = Math.Round(p.Fp32Gflops / 1000, 4), ["status"] = "derived", ["note"] = $"FP32 FMA rate ({p.Fp32Kernel}); the engine computes in FP32" },
        };
        if (p.Int8Gops > 0) peaks["int8"] = new Dictionary<string, object> { ["value"] = Math.Round(p.Int8Gops / 1000, 4), ["note"] = p.Int8Kernel };
        var source = $"glm plan probe, {date}, {p.Threads} threads";
        var doc = new Dictionary<string, object>
        {
            ["chips"] = new[]
            {
                new Dictionary<string, object>
                {
                    ["id"] = "cpu-probed", ["name"] = $"this machine ({p.Threads} threads)", ["vendor"] = "host", ["family"] = "cpu", ["status"] = "measured",
                    ["source"] = source, ["peak_tflops"] = peaks, ["hbm_gb"] = Math.Round(p.MemoryGb, 1), ["hbm_tbps"] = Math.Round(p.ReadGBPerSecond / 1000, 5),
                    ["scale_up_gbps"] = new Dictionary<string, object> { ["value"] = 1, ["status"] = "assumed" },
                },
            },
            ["systems"] = new[]
            {
                new Dictionary<string, object>
                {
                    ["id"] = "probed-machine", ["chip"] = "cpu-probed", ["chips"] = 1, ["scale_up_domain"] = 1, ["status"] = "measured", ["source"] = source,
                },
            },
        };
        return JsonSerializer.Serialize(doc, new JsonSerializerOptions { WriteIndented = true }) + "\n";
    }
}
