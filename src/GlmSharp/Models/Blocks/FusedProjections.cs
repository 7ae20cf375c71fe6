using GlmSharp.Kernels;
using GlmSharp.Tensors;

namespace GlmSharp.Models.Blocks;

/// <summary>
/// Linear layers that read the same input (a layer's q, k and v), multiplied in one backend operation: the input is
/// prepared once and the threads share all the rows. The results lie one after another in y, [rows, outᵢ] each,
/// and each gets its own bias.
/// </summary>
public sealed class FusedProjections(IComputeBackend backend, params Linear[] linears)
{
    private readonly TensorView[] _weights = linears.Select(linear => linear.Weight).ToArray();

    public void Forward(DeviceSpan<float> x, DeviceSpan<float> y, int rows)
    {
        backend.MatMul(_weights, x, y, rows);
        int offset = 0;
        foreach (var linear in linears)
        {
            linear.AddBias(y.Slice(offset, rows * linear.OutFeatures), rows);
            offset += rows * linear.OutFeatures;
        }
    }
}
