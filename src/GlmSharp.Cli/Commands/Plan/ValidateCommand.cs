using System.CommandLine;
using System.Text.Json;
using GlmSharp.Planner.Validation;
using Spectre.Console;

namespace GlmSharp.Cli.Commands.Plan;

internal static class ValidateCommand
{
    public static Command Create()
    {
        var noLoo = new Option<bool>("--no-loo") { Description = "Skip the leave-one-out refits" };
        var command = new Command("validate", "Predicted vs measured for every shipped validation point, with leave-one-out errors")
        {
            PlanOptions.Json, PlanOptions.Catalog, PlanOptions.Efficiency, noLoo,
        };
        command.SetAction(parse =>
        {
            var predictor = new PointPredictor(PlanOptions.LoadCatalog(parse));
            var report = new Validator(predictor, new Calibrator(predictor))
                .Run(ValidationPoint.LoadShipped(), PlanOptions.LoadEfficiency(parse), leaveOneOut: !parse.GetValue(noLoo));
            if (parse.GetValue(PlanOptions.Json)) Console.WriteLine(ToJson(report));
            else Print(report);
            return 0;
        });
        return command;
    }

    private static string ToJson(ValidationReport r) => JsonSerializer.Serialize(new
    {
        points = r.Points.Select(p => new
        {
            id = p.Point.Id, group = p.Group, status = p.Point.Status, predicted = Math.Round(p.Predicted, 2), measured = p.Point.Measured,
            error = Math.Round(p.Error, 4), loo_predicted = p.LooPredicted is { } lp ? Math.Round(lp, 2) : (double?)null,
            loo_error = p.LooError is { } le ? Math.Round(le, 4) : (double?)null,
        }),
        median_abs_error = Math.Round(r.MedianAbsError, 4),
        max_abs_error = Math.Round(r.MaxAbsError, 4),
        loo_median_abs_error = r.LooMedianAbsError is { } m ? Math.Round(m, 4) : (double?)null,
        loo_max_abs_error = r.LooMaxAbsError is { } x ? Math.Round(x, 4) : (double?)null,
        all_points_median_abs_error = Math.Round(r.AllPointsMedianAbsError, 4),
        all_points_max_abs_error = Math.Round(r.AllPointsMaxAbsError, 4),
    }, PlanOptions.JsonOut);

    private static void Print(ValidationReport r)
    {
        var t = new Table().AddColumns("point", "group", "status", "metric", "measured", "predicted", "error", "LOO error");
        foreach (var p in r.Points)
            t.AddRow(Markup.Escape(p.Point.Id), p.Group, p.Point.Status, p.Point.Metric.ToString().ToLowerInvariant(), $"{p.Point.Measured:N0}", $"{p.Predicted:N0}",
                $"{p.Error:+0.0%;-0.0%}", p.LooError is { } e ? $"{e:+0.0%;-0.0%}" : "-");
        AnsiConsole.Write(t);
        AnsiConsole.MarkupLine($"measured points: median |error| {r.MedianAbsError:P1}   max |error| {r.MaxAbsError:P1}" +
            (r.LooMedianAbsError is { } m ? $"   LOO median |error| {m:P1}   LOO max {r.LooMaxAbsError:P1}" : ""));
        AnsiConsole.MarkupLine($"all points incl. vendor claims: median |error| {r.AllPointsMedianAbsError:P1}   max |error| {r.AllPointsMaxAbsError:P1}");
    }
}
