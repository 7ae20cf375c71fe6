using GlmSharp.Kernels;

namespace GlmSharp.Models.Blocks;

/// <summary>RMSNorm with a plain (not 1+w) scale, as every GLM text model uses.</summary>
public sealed class RmsNorm(IComputeBackend backend, DeviceSpan<float> weight, double eps)
{
    public int Width => weight.Length;

    public static RmsNorm Load(WeightBuilder weights, IComputeBackend backend, string name, int width, double eps) =>
        new(backend, weights.Parameter(name + ".weight", width), eps);

    public void Apply(DeviceSpan<float> x, DeviceSpan<float> y, int rows) => backend.RmsNorm(x, weight, (float)eps, y, rows);
}
