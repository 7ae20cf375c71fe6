using GlmSharp.Kernels;

namespace GlmSharp.Models.Blocks;

/// <summary>
/// down(silu(gate(x)) · up(x)) with gate and up stored apart (<c>gate_proj</c>, <c>up_proj</c>; llama.cpp's
/// <c>ffn_gate</c>, <c>ffn_up</c>): GLM-4.5's dense lead layers and its shared expert. Both projections run in one
/// operation, [rows, width] gate then up.
/// </summary>
public sealed class GatedMlp(IComputeBackend backend, Linear gate, Linear up, Linear down)
{
    private readonly FusedProjections _gateUp = new(backend, gate, up);

    public int Width => down.InFeatures;

    public static GatedMlp Load(WeightBuilder mlp, IComputeBackend backend, int hidden, int width) =>
        new(backend,
            Linear.Load(mlp, backend, "gate_proj", hidden, width),
            Linear.Load(mlp, backend, "up_proj", hidden, width),
            Linear.Load(mlp, backend, "down_proj", width, hidden));

    public void Forward(DeviceSpan<float> x, DeviceSpan<float> y, int rows, ForwardScratch scratch)
    {
        int values = rows * Width;
        var gateUp = scratch.GateUp(rows, Width);
        var activated = scratch.Intermediate(rows, Width);
        _gateUp.Forward(x, gateUp, rows);
        backend.SwiGlu(gateUp.Take(values), gateUp.Slice(values, values), activated, rows, Width);
        down.Forward(activated, y, rows);
    }
}
