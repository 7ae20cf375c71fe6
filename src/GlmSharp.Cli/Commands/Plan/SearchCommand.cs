using System.CommandLine;
using System.Text.Json;
using GlmSharp.Planner.Catalog;
using GlmSharp.Planner.Models;
using GlmSharp.Planner.Search;
using Spectre.Console;

namespace GlmSharp.Cli.Commands.Plan;

internal static class SearchCommand
{
    public static Command Create()
    {
        var hardware = new Option<string>("--hardware") { Required = true };
        var model = new Option<string>("--model") { Required = true };
        var precision = new Option<string>("--precision") { DefaultValueFactory = _ => "fp8" };
        var chips = new Option<int>("--chips") { Description = "Chips of the decode pool", Required = true }.Within(NumericRange.AtLeast(1));
        var input = new Option<int>("--input-len") { DefaultValueFactory = _ => 1024 }.Within(NumericRange.AtLeast(1));
        var output = new Option<int>("--output-len") { DefaultValueFactory = _ => 1024 }.Within(NumericRange.AtLeast(1));
        var mtp = PlanOptions.MtpAcceptance();
        var chart = new Option<string?>("--chart") { Description = "Write the Pareto front to this .png or .svg" }.WritableFile();
        var roofline = new Option<string?>("--roofline") { Description = "Write a roofline of the catalog's chips at this precision to this .png or .svg" }.WritableFile();
        var command = new Command("search", "Enumerate TP/PP/EP/DP layouts and batches; print the Pareto front of tokens/s per chip vs per user")
        {
            hardware, model, precision, chips, input, output, mtp, chart, roofline, PlanOptions.Json, PlanOptions.Catalog, PlanOptions.Efficiency,
        };
        command.SetAction(parse =>
        {
            var catalog = PlanOptions.LoadCatalog(parse);
            var system = catalog.System(parse.GetValue(hardware)!);
            var shape = ModelCatalog.Load(parse.GetValue(model)!);
            var prec = Precisions.Parse(parse.GetValue(precision)!, "--precision");
            var all = LayoutSearch.Run(shape, system, prec, parse.GetValue(chips), parse.GetValue(input), parse.GetValue(output),
                PlanOptions.LoadEfficiency(parse), parse.GetValue(mtp));
            var front = LayoutSearch.ParetoFront(all);
            if (parse.GetValue(chart) is { } path) ChartWriter.Pareto(path, all, front, $"{shape.Id} on {system.Id} ({prec.Name()})");
            if (parse.GetValue(roofline) is { } roof) ChartWriter.Roofline(roof, catalog.Chips, prec);
            if (parse.GetValue(PlanOptions.Json))
            {
                Console.WriteLine(JsonSerializer.Serialize(new { evaluated = all.Count, pareto = front.Select(p => new
                {
                    layout = p.Decode.ToString(), p.BatchPerChip, p.TokensPerSecondPerUser, p.OutputTokensPerSecondPerChip, p.DecodeOnlyOutputPerChip,
                    p.TpotMs, p.MemoryPerChipGb, p.PrefillShare,
                }) }, PlanOptions.JsonOut));
                return 0;
            }
            if (front.Count == 0) throw new PlanRequestException("no layout fits in memory");
            var t = new Table().AddColumns("layout", "batch/chip", "tok/s/user", "out tok/s/chip (with prefill)", "decode-only", "TPOT ms", "GB/chip");
            foreach (var p in front)
                t.AddRow(p.Decode.ToString(), p.BatchPerChip.ToString(), $"{p.TokensPerSecondPerUser:F1}", $"{p.OutputTokensPerSecondPerChip:F0}",
                    $"{p.DecodeOnlyOutputPerChip:F0}", $"{p.TpotMs:F1}", $"{p.MemoryPerChipGb:F1}");
            AnsiConsole.Write(t);
            AnsiConsole.MarkupLine($"{all.Count} candidates evaluated");
            return 0;
        });
        return command;
    }
}
