using GlmSharp.Tensors;

namespace GlmSharp.Kernels.Bench;

/// <summary>Medians of the samples as GOP/s (2·out·in·tokens operations per call) and GB/s (weight bytes per call).</summary>
internal sealed record BenchReport(GgmlType Type, int Outputs, int Inputs, int Tokens, int Threads, long WeightBytes)
{
    public void Print(KernelPath[] paths, List<double>[] samples)
    {
        Console.WriteLine($"{Type} [{Outputs}×{Inputs}] × {Tokens} tokens, {Threads} threads, {samples[0].Count} samples per path");
        for (int p = 0; p < paths.Length; p++)
        {
            double seconds = Median(samples[p]);
            double gops = 2.0 * Outputs * Inputs * Tokens / seconds / 1e9;
            Console.WriteLine($"  {paths[p],-24} {seconds * 1e3,9:F3} ms  {gops,8:F1} GOP/s  {WeightBytes / seconds / 1e9,7:F1} GB/s  " +
                $"(min {samples[p].Min() * 1e3:F3}, max {samples[p].Max() * 1e3:F3} ms)");
        }
        if (paths.Length == 2)
        {
            var ratios = samples[0].Zip(samples[1], (a, b) => a / b).ToList();
            Console.WriteLine($"  speed B/A: {Median(samples[0]) / Median(samples[1]):F3} (ratio of medians), " +
                $"{Median(ratios):F3} (median of per-round ratios, min {ratios.Min():F3}, max {ratios.Max():F3})");
        }
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        int mid = sorted.Count / 2;
        return sorted.Count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }
}
