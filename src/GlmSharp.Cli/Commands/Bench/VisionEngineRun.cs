using System.Diagnostics;
using GlmSharp.Kernels.Cpu;
using GlmSharp.Vision;

namespace GlmSharp.Cli.Commands.Bench;

/// <summary>
/// One timed image encode of GlmSharp's glm4v tower, on mtmd's pre-processing so that its patch grid is the one
/// libmtmd encodes in bench/GlmSharp.LlamaCppBench: load, warm up on a small image, pre-process (timed apart), encode.
/// </summary>
internal static class VisionEngineRun
{
    public static VisionResult Run(string mmproj, VisionRunSettings run)
    {
        var start = Stopwatch.GetTimestamp();
        using var backend = new CpuBackend(run.Threads);
        using var tower = Glm4vVisionTower.FromMmproj(mmproj, backend);
        double load = Stopwatch.GetElapsedTime(start).TotalSeconds;
        var preprocessor = new ImagePreprocessor(tower.Preprocessor, ImagePreprocessing.LlamaCpp, llamaCppMaxTokens: run.MaxImageTokens);

        int side = VisionRunSettings.WarmupTokensPerSide * tower.Preprocessor.Factor;
        var warmup = preprocessor.Preprocess(Rgba(side, side), "warm-up image");
        var warmupStart = Stopwatch.GetTimestamp();
        do tower.Encode(warmup);
        while (Stopwatch.GetElapsedTime(warmupStart) < RunSettings.MinimumWarmup);

        var image = Rgba(run.Width, run.Height);
        start = Stopwatch.GetTimestamp();
        var input = preprocessor.Preprocess(image, "synthetic image");
        double preprocess = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        start = Stopwatch.GetTimestamp();
        tower.Encode(input);
        double encode = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        return new VisionResult(encode, preprocess, input.GridH / input.MergeSize, input.GridW / input.MergeSize, input.PatchCount, load, RunSettings.PeakRssMb());
    }

    /// <summary>The <see cref="SyntheticImage"/> with opaque alpha: mtmd drops alpha, so both engines see the same colours.</summary>
    private static RgbaImage Rgba(int width, int height)
    {
        var rgb = SyntheticImage.Rgb(width, height);
        var rgba = new byte[(long)width * height * 4];
        for (long p = 0, q = 0; q < rgb.Length; p += 4, q += 3) (rgba[p], rgba[p + 1], rgba[p + 2], rgba[p + 3]) = (rgb[q], rgb[q + 1], rgb[q + 2], 255);
        return new RgbaImage(width, height, rgba);
    }
}
