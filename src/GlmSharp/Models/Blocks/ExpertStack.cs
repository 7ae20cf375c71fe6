using GlmSharp.Tensors;

namespace GlmSharp.Models.Blocks;

/// <summary>
/// One projection of every expert of a MoE layer, as views of the stored weights in any layout a checkpoint uses:
/// llama.cpp's merged [experts, out, in] tensors (<c>ffn_gate_exps</c> …, served here as <c>experts.gate_proj</c>),
/// its fused gate and up (<c>ffn_gate_up_exps</c>, <c>experts.gate_up_proj</c>: gate rows then up rows per expert), or one
/// tensor per expert (Hugging Face's <c>experts.{e}.gate_proj</c>). Nothing is copied.
/// </summary>
public static class ExpertStack
{
    public static TensorView[] Load(WeightBuilder mlp, string projection, int experts, long rows, long columns)
    {
        string merged = $"experts.{projection}.weight";
        if (mlp.Has(merged))
        {
            var stack = mlp.Stack(merged, experts, rows, columns);
            return [.. Enumerable.Range(0, experts).Select(e => stack.Slice(e))];
        }
        var perExpert = mlp.At("experts");
        return [.. Enumerable.Range(0, experts).Select(e => perExpert.At(e).Matrix($"{projection}.weight", rows, columns))];
    }

    /// <summary>Gate and up of every expert, from a fused gate_up stack when the checkpoint has one.</summary>
    public static (TensorView[] Gate, TensorView[] Up) LoadGateUp(WeightBuilder mlp, int experts, long width, long hidden)
    {
        const string fused = "experts.gate_up_proj.weight";
        if (!mlp.Has(fused)) return (Load(mlp, "gate_proj", experts, width, hidden), Load(mlp, "up_proj", experts, width, hidden));
        var stack = mlp.Stack(fused, experts, 2 * width, hidden);
        var slices = Enumerable.Range(0, experts).Select(e => stack.Slice(e)).ToArray();
        return ([.. slices.Select(s => s.Rows(0, width))], [.. slices.Select(s => s.Rows(width, width))]);
    }
}
