using GlmSharp.Planner.Catalog;
using GlmSharp.Planner.Search;
using ScottPlot;

namespace GlmSharp.Cli.Commands.Plan;

/// <summary>
/// Pareto-front and roofline charts as PNG or SVG (chosen by the file extension), drawn with ScottPlot. It lives with
/// the command that draws them, not in the planner library, so that ScottPlot's native SkiaSharp and HarfBuzz libraries
/// reach only this tool and not every consumer of the planner.
/// </summary>
internal static class ChartWriter
{
    public static void Pareto(string path, IReadOnlyList<SearchPoint> all, IReadOnlyList<SearchPoint> front, string title)
    {
        var plot = new Plot();
        var cloud = plot.Add.ScatterPoints(all.Select(p => p.TokensPerSecondPerUser).ToArray(), all.Select(p => p.OutputTokensPerSecondPerChip).ToArray());
        cloud.LegendText = "layouts × batch";
        cloud.MarkerSize = 4;
        var line = plot.Add.Scatter(front.Select(p => p.TokensPerSecondPerUser).ToArray(), front.Select(p => p.OutputTokensPerSecondPerChip).ToArray());
        line.LegendText = "Pareto front";
        line.LineWidth = 2;
        plot.Title(title);
        plot.XLabel("tokens/s per user");
        plot.YLabel("output tokens/s per chip");
        plot.ShowLegend();
        Save(plot, path);
    }

    /// <summary>Attainable TFLOP/s against arithmetic intensity for each chip at one precision.</summary>
    public static void Roofline(string path, IEnumerable<ChipSpec> chips, Precision precision)
    {
        var plot = new Plot();
        double[] intensity = [.. Enumerable.Range(0, 60).Select(i => Math.Pow(10, -1 + i * 5.0 / 59))];
        foreach (var chip in chips.Where(c => c.Supports(precision)))
        {
            double peak = chip.PeakFlops(precision) / 1e12;
            double bw = chip.HbmBytesPerSecond / 1e12;
            var s = plot.Add.Scatter(intensity.Select(Math.Log10).ToArray(), intensity.Select(x => Math.Log10(Math.Min(peak, bw * x))).ToArray());
            s.LegendText = chip.Id;
            s.MarkerSize = 0;
        }
        plot.Title($"Roofline at {precision.Name()} (log10 axes)");
        plot.XLabel("log10 FLOP per byte");
        plot.YLabel("log10 attainable TFLOP/s");
        plot.ShowLegend();
        Save(plot, path);
    }

    private static void Save(Plot plot, string path)
    {
        string ext = Path.GetExtension(path).ToLowerInvariant();
        if (ext == ".svg") plot.SaveSvg(path, 900, 600);
        else if (ext == ".png") plot.SavePng(path, 900, 600);
        else throw new PlanRequestException($"chart '{path}': use a .png or .svg file name");
    }
}
