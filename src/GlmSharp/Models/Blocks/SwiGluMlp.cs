using GlmSharp.Kernels;

namespace GlmSharp.Models.Blocks;

/// <summary>
/// down(silu(gate(x)) · up(x)) with gate and up fused in one [2I, H] matrix, gate rows first
/// (GLM's <c>gate_up_proj</c>; llama.cpp keeps it fused as <c>ffn_up</c>).
/// </summary>
public sealed class SwiGluMlp(IComputeBackend backend, Linear gateUp, Linear down)
{
    public int Intermediate => down.InFeatures;

    public static SwiGluMlp LoadFused(WeightBuilder mlp, IComputeBackend backend, int hidden, int intermediate) =>
        new(backend,
            Linear.Load(mlp, backend, "gate_up_proj", hidden, 2 * intermediate),
            Linear.Load(mlp, backend, "down_proj", intermediate, hidden));

    public void Forward(DeviceSpan<float> x, DeviceSpan<float> y, int rows, ForwardScratch scratch)
    {
        var gateUpOut = scratch.GateUp(rows);
        var activated = scratch.Intermediate(rows);
        gateUp.Forward(x, gateUpOut, rows);
        backend.SwiGlu(gateUpOut, activated, rows, Intermediate);
        down.Forward(activated, y, rows);
    }
}
