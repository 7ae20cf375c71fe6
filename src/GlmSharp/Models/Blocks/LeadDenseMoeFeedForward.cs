using GlmSharp.Configs;
using GlmSharp.Kernels;

namespace GlmSharp.Models.Blocks;

/// <summary>
/// The FFN of a GLM / DeepSeek MoE block: a SwiGLU of intermediate_size in the first first_k_dense_replace layers, after
/// them the sigmoid-routed experts with their selection bias (<see cref="MoeFeedForward"/>) plus the shared experts.
/// </summary>
public sealed class LeadDenseMoeFeedForward
{
    private readonly GatedMlp? _mlp;
    private readonly MoeFeedForward? _experts;

    public LeadDenseMoeFeedForward(WeightBuilder mlp, IComputeBackend backend, ModelConfig config, MoeShape moe, int layer)
    {
        if (layer < moe.FirstDenseLayers) _mlp = GatedMlp.Load(mlp, backend, config.HiddenSize, config.IntermediateSize);
        else _experts = MoeFeedForward.Load(mlp, backend, config.HiddenSize, moe, ExpertScoring.Sigmoid, selectionBias: true);
    }

    public void Forward(DeviceSpan<float> x, DeviceSpan<float> y, int rows, ForwardScratch scratch)
    {
        if (_mlp is not null) _mlp.Forward(x, y, rows, scratch);
        else _experts!.Forward(x, y, rows, scratch);
    }
}
