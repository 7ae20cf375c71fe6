using System.Diagnostics;
using GlmSharp.Configs;
using GlmSharp.Errors;
using GlmSharp.Tensors;
using GlmSharp.Vision;

namespace GlmSharp.Cli.Commands.Bench;

/// <summary>
/// <c>glm bench --vision</c>: the image encode of GlmSharp's glm4v tower against libmtmd's, each run its own process and
/// the engines alternating A B A B, as the text benchmark runs them. Both engines take mtmd's pre-processing with the
/// token cap raised to the image's own count, so they encode the same patch grid (checked on every run).
/// </summary>
internal sealed class VisionBench(int threads, int runs, bool json, LlamaCppBenchTool? llamaTool)
{
    /// <param name="mmproj">A given mmproj, or null to write a random one of <paramref name="config"/> in <paramref name="type"/>.</param>
    public int Run(IReadOnlyList<(int Width, int Height)> sizes, string? mmproj, Glm4vVisionConfig config, GgmlType? type)
    {
        string stem = Path.Combine(Path.GetTempPath(), $"glm-bench-vision-{Environment.ProcessId}");
        var temporary = new List<string>();
        try
        {
            if (mmproj is null)
            {
                mmproj = stem + "-mmproj.gguf";
                temporary.Add(mmproj);
                Console.Error.WriteLine($"writing a random glm4v mmproj: {config.Depth} blocks, width {config.HiddenSize}, {type}");
                SyntheticVision.WriteMmproj(config, type!.Value, mmproj);
            }
            string? textModel = null;
            if (llamaTool is not null)
            {
                textModel = stem + "-text.gguf";
                temporary.Add(textModel);
                SyntheticVision.WriteTextModel(config.OutHiddenSize, textModel);
            }
            BenchCommand.FlushWrites();

            var rows = sizes.Select(size => Measure(size, mmproj, textModel, config)).ToArray();
            var report = new VisionBenchReport(Path.GetFileName(mmproj), config, type, threads, runs, rows);
            if (json) Console.WriteLine(report.ToJson());
            else report.Print(Console.Out);
            return 0;
        }
        finally
        {
            foreach (string file in temporary) File.Delete(file);
        }
    }

    private VisionBenchReport.Row Measure((int Width, int Height) size, string mmproj, string? textModel, Glm4vVisionConfig config)
    {
        int factor = config.PatchSize * config.SpatialMergeSize;
        var canvas = LlamaCppImageSizing.Resize(size.Height, size.Width, factor, 0, int.MaxValue);
        int uncapped = canvas.Height / factor * (canvas.Width / factor);
        var run = new VisionRunSettings(threads, size.Width, size.Height, Math.Max(uncapped, LlamaCppImageSizing.DefaultMinTokens));
        var ours = new List<VisionResult>();
        var llama = llamaTool is null ? null : new List<VisionResult>();
        for (int i = 0; i < runs; i++)
        {
            if (!json) Console.Error.WriteLine($"{size.Width}x{size.Height}: run {i + 1}/{runs}");
            ours.Add(ChildProcess.RunEngine<VisionResult>(EngineRun.GlmSharp, ChildProcess.Glm(["bench", "--engine", EngineRun.GlmSharp, "--vision", "--mmproj", mmproj, .. run.Arguments])));
            if (llamaTool is not null) llama!.Add(ChildProcess.RunEngine<VisionResult>("llama.cpp", llamaTool.VisionRunStart(mmproj, textModel!, run)));
        }
        var grids = ours.Concat(llama ?? []).Select(r => (r.TokenRows, r.TokenCols, r.Patches)).Distinct().ToArray();
        if (grids.Length != 1)
            throw new GlmException($"{size.Width}x{size.Height}: the engines encoded different grids ({string.Join(", ", grids.Select(g => $"{g.TokenRows}x{g.TokenCols} tokens, {g.Patches} patches"))})");
        return new VisionBenchReport.Row(size.Width, size.Height, factor, ours, llama);
    }
}
