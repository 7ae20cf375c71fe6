using GlmSharp.Kernels;
using GlmSharp.Tensors;

namespace GlmSharp.Models.Blocks;

/// <summary>
/// y = x·Wᵀ (+ b). A loaded weight is the backend's prepared copy (<see cref="IComputeBackend.PrepareMatrix"/>), which
/// may be repacked; one given to the constructor is used as it is (a tied embedding that must stay readable row by row).
/// </summary>
public sealed class Linear(IComputeBackend backend, TensorView weight, DeviceSpan<float>? bias)
{
    public int InFeatures { get; } = checked((int)weight.Shape[1]);
    public int OutFeatures { get; } = checked((int)weight.Shape[0]);
    public TensorView Weight => weight;

    /// <summary>Loads <c>name.weight</c> and, where the architecture allows a bias and the checkpoint has one, <c>name.bias</c>.</summary>
    public static Linear Load(WeightBuilder weights, IComputeBackend backend, string name, int inFeatures, int outFeatures, bool mayHaveBias = false) =>
        new(backend, backend.PrepareMatrix(weights.Matrix(name + ".weight", outFeatures, inFeatures)),
            mayHaveBias ? weights.OptionalParameter(name + ".bias", outFeatures) : null);

    public void Forward(DeviceSpan<float> x, DeviceSpan<float> y, int rows)
    {
        backend.MatMul(weight, x, y, rows);
        AddBias(y, rows);
    }

    /// <summary>Adds the bias, if any, to a [rows, out] result of this layer's weight computed elsewhere.</summary>
    public void AddBias(DeviceSpan<float> y, int rows)
    {
        if (bias is { } b) backend.AddBias(y, b, rows);
    }
}
