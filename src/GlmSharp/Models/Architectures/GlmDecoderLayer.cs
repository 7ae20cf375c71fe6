using GlmSharp.Configs;
using GlmSharp.Kernels;
using GlmSharp.Kernels.Paging;
using GlmSharp.Models.Blocks;

namespace GlmSharp.Models.Architectures;

/// <summary>
/// The dense GLM block —
///   h   = x + [post_self_attn_layernorm] Attention(input_layernorm(x))
///   out = h + [post_mlp_layernorm] MLP(post_attention_layernorm(h))
/// with the bracketed output norms only in GLM-4-0414 (post_attention_layernorm is the pre-MLP norm despite its name).
/// </summary>
public sealed class GlmDecoderLayer(WeightBuilder w, IComputeBackend backend, ModelConfig c, RopeTable rope, bool sandwichNorms) : IDecoderLayer
{
    private readonly RmsNorm _inputNorm = RmsNorm.Load(w, backend, "input_layernorm", c.HiddenSize, c.RmsNormEps);
    private readonly GqaAttention _attention = GqaAttention.Load(w.At("self_attn"), backend, c, rope);
    private readonly RmsNorm? _attentionOutputNorm = sandwichNorms ? RmsNorm.Load(w, backend, "post_self_attn_layernorm", c.HiddenSize, c.RmsNormEps) : null;
    private readonly RmsNorm _preMlpNorm = RmsNorm.Load(w, backend, "post_attention_layernorm", c.HiddenSize, c.RmsNormEps);
    private readonly SwiGluMlp _mlp = SwiGluMlp.LoadFused(w.At("mlp"), backend, c.HiddenSize, c.IntermediateSize);
    private readonly RmsNorm? _mlpOutputNorm = sandwichNorms ? RmsNorm.Load(w, backend, "post_mlp_layernorm", c.HiddenSize, c.RmsNormEps) : null;

    public LayerCacheSpec CacheSpec => _attention.CacheSpec;

    public void Forward(DeviceSpan<float> hidden, in ForwardStep step, LayerCache cache)
    {
        int rows = step.Rows;
        var normed = step.Scratch.Normed(rows);
        var sublayerOut = step.Scratch.Projected(rows);

        _inputNorm.Apply(hidden, normed, rows);
        _attention.Forward(normed, sublayerOut, step, cache);
        _attentionOutputNorm?.Apply(sublayerOut, sublayerOut, rows);
        backend.Add(hidden, sublayerOut);

        _preMlpNorm.Apply(hidden, normed, rows);
        _mlp.Forward(normed, sublayerOut, rows, step.Scratch);
        _mlpOutputNorm?.Apply(sublayerOut, sublayerOut, rows);
        backend.Add(hidden, sublayerOut);
    }
}
