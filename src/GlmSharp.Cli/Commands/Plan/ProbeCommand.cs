using System.CommandLine;
using GlmSharp.Planner.Probe;
using Spectre.Console;

namespace GlmSharp.Cli.Commands.Plan;

internal static class ProbeCommand
{
    public static Command Create()
    {
        var threads = new Option<int>("--threads") { DefaultValueFactory = _ => Environment.ProcessorCount };
        var write = new Option<string?>("--write") { Description = "Write a catalog file with this machine as chip 'cpu-probed' and system 'probed-machine'" };
        var command = new Command("probe", "Measure this machine's read bandwidth, FP32 FMA and INT8 rates as a planner chip") { threads, write };
        command.SetAction(parse =>
        {
            var p = MachineProbe.Measure(parse.GetValue(threads));
            var t = new Table().AddColumns("quantity", "measured");
            t.AddRow("read bandwidth", $"{p.ReadGBps:F1} GB/s");
            t.AddRow("fp32 FMA", $"{p.Fp32Gflops:F0} GFLOP/s");
            t.AddRow("int8 dot", $"{p.Int8Gops:F0} GOP/s");
            t.AddRow("threads", p.Threads.ToString());
            AnsiConsole.Write(t);
            if (parse.GetValue(write) is { } path)
            {
                string today = DateTime.UtcNow.ToString("yyyy-MM-dd");
                File.WriteAllText(path, $$$"""
                {"chips": [{"id": "cpu-probed", "name": "this machine ({{{p.Threads}}} threads)", "vendor": "host", "family": "cpu", "status": "measured",
                  "source": "glm plan probe, {{{today}}}", "peak_tflops": {"bf16": {"value": {{{p.Fp32Gflops / 1000:F4}}}, "status": "derived", "note": "FP32 FMA rate; the engine computes in FP32"}, "int8": {{{p.Int8Gops / 1000:F4}}}},
                  "hbm_gb": {{{p.MemoryGb:F1}}}, "hbm_tbps": {{{p.ReadGBps / 1000:F5}}}, "scale_up_gbps": {"value": 1, "status": "assumed"}}],
                 "systems": [{"id": "probed-machine", "chip": "cpu-probed", "chips": 1, "scale_up_domain": 1, "status": "measured", "source": "glm plan probe, {{{today}}}"}]}
                """);
                AnsiConsole.MarkupLine($"wrote {Markup.Escape(path)} (use with --catalog)");
            }
            return 0;
        });
        return command;
    }
}
