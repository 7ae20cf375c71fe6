using System.CommandLine;
using GlmSharp.Planner.Validation;
using Spectre.Console;

namespace GlmSharp.Cli.Commands.Plan;

internal static class CalibrateCommand
{
    public static Command Create()
    {
        var output = new Option<string>("--output") { Description = "Where to write the fitted factors", DefaultValueFactory = _ => "efficiency.json" }.WritableFile();
        var command = new Command("calibrate", "Fit efficiency factors per (chip family, precision) to the validation points")
        {
            output, PlanOptions.Catalog,
        };
        command.SetAction(parse =>
        {
            var predictor = new PointPredictor(PlanOptions.LoadCatalog(parse));
            var table = new Calibrator(predictor).Fit(ValidationPoint.LoadShipped());
            string path = parse.GetValue(output)!;
            File.WriteAllText(path, table.ToJson("Fitted by `glm plan calibrate` on Data/validation.json: compute and memory are fractions of peak; layer_overhead_us is a fixed cost per layer per step.") + "\n");
            var t = new Table().AddColumns("family", "precision", "compute", "memory", "overhead µs/layer");
            foreach (var ((family, precision), f) in table.Entries.OrderBy(e => e.Key.Family))
                t.AddRow(family, precision.ToString().ToLowerInvariant(), $"{f.Compute:F3}", $"{f.Memory:F3}", $"{f.LayerOverheadUs:F1}");
            AnsiConsole.Write(t);
            AnsiConsole.MarkupLine($"wrote {Markup.Escape(path)}");
            return 0;
        });
        return command;
    }
}
