using GlmSharp.Configs;
using GlmSharp.Kernels;
using GlmSharp.Kernels.Paging;

namespace GlmSharp.Models.Blocks;

/// <summary>
/// The block GLM-4.5, GLM-4.7-Flash and GLM-5 share: attention, then the dense SwiGLU (lead layers) or the mixture of
/// experts, each pre-normed and added to the residual. Only the attention differs (grouped-query for glm4_moe, latent for
/// glm4_moe_lite, latent over the DSA indexer's choice for glm_moe_dsa).
/// </summary>
public sealed class PreNormMoeDecoderLayer(IAttentionBlock attention, WeightBuilder w, IComputeBackend backend, ModelConfig c, MoeShape moe, int layer) : IDecoderLayer
{
    private readonly RmsNorm _inputNorm = RmsNorm.Load(w, backend, "input_layernorm", c.HiddenSize, c.RmsNormEps);
    private readonly RmsNorm _preFeedForwardNorm = RmsNorm.Load(w, backend, "post_attention_layernorm", c.HiddenSize, c.RmsNormEps);
    private readonly LeadDenseMoeFeedForward _feedForward = new(w.At("mlp"), backend, c, moe, layer);

    public LayerCacheSpec CacheSpec => attention.CacheSpec;

    public void Forward(DeviceSpan<float> hidden, in ForwardStep step, LayerCache cache)
    {
        int rows = step.Rows;
        var normed = step.Scratch.Normed(rows);
        var sublayerOut = step.Scratch.Projected(rows);

        _inputNorm.Apply(hidden, normed, rows);
        attention.Forward(normed, sublayerOut, step, cache);
        backend.Add(hidden, sublayerOut);

        _preFeedForwardNorm.Apply(hidden, normed, rows);
        _feedForward.Forward(normed, sublayerOut, rows, step.Scratch);
        backend.Add(hidden, sublayerOut);
    }
}
