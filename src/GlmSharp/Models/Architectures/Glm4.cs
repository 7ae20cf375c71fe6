using GlmSharp.Configs;
using GlmSharp.Formats;
using GlmSharp.Kernels;
using GlmSharp.Kernels.Paging;
using GlmSharp.Models.Blocks;

namespace GlmSharp.Models.Architectures;

/// <summary>
/// GLM-4-0414 / Z1 (<c>model_type: "glm4"</c>). The GLM block with a "sandwich": each sub-layer's output is
/// normalised again before it joins the residual stream —
///   h   = x + post_self_attn_layernorm(Attention(input_layernorm(x)))
///   out = h + post_mlp_layernorm(MLP(post_attention_layernorm(h)))
/// (post_attention_layernorm is the pre-MLP norm despite its name). Interleaved partial RoPE on the first
/// head_dim·partial_rotary_factor dims, q/k/v bias when present (9B yes, 32B no), fused gate_up.
/// </summary>
public sealed class Glm4 : IArchitecture
{
    public string ModelType => "glm4";
    public string GgufArchitecture => "glm4";


    public ModelConfig ConfigFromGguf(GgufModelMetadata gguf) => new Glm4Config(gguf.DenseConfig("glm4"));

    public IReadOnlyList<TensorNamePair> LayerTensorNames => GlmTensorNames.SandwichLayer;

    public CausalLm Build(ModelConfig config, ITensorSource owner, WeightBuilder weights)
    {
        var rope = new RopeTable(RopeLayout.AdjacentPairs, config.RotaryDims, config.RopeTheta, scaling: config.RopeScaling);
        return CausalLm.FromLayers(config, owner, weights, layer => new Layer(layer, weights.Backend, config, rope));
    }

    private sealed class Layer(WeightBuilder w, IComputeBackend backend, ModelConfig c, RopeTable rope) : IDecoderLayer
    {
        private readonly RmsNorm _inputNorm = RmsNorm.Load(w, backend, "input_layernorm", c.HiddenSize, c.RmsNormEps);
        private readonly GqaAttention _attention = GqaAttention.Load(w.At("self_attn"), backend, c, rope);
        private readonly RmsNorm _postAttentionOutputNorm = RmsNorm.Load(w, backend, "post_self_attn_layernorm", c.HiddenSize, c.RmsNormEps);
        private readonly RmsNorm _preMlpNorm = RmsNorm.Load(w, backend, "post_attention_layernorm", c.HiddenSize, c.RmsNormEps);
        private readonly SwiGluMlp _mlp = SwiGluMlp.LoadFused(w.At("mlp"), backend, c.HiddenSize, c.IntermediateSize);
        private readonly RmsNorm _postMlpOutputNorm = RmsNorm.Load(w, backend, "post_mlp_layernorm", c.HiddenSize, c.RmsNormEps);

        public LayerCacheSpec CacheSpec => _attention.CacheSpec;

        public void Forward(Span<float> hidden, in ForwardStep step, LayerCache cache)
        {
            int rows = step.Rows;
            var s = step.Scratch;
            var normed = s.Normed(rows);
            var sublayerOut = s.Projected(rows);

            _inputNorm.Apply(hidden, normed, rows);
            _attention.Forward(normed, sublayerOut, step, cache);
            _postAttentionOutputNorm.Apply(sublayerOut, sublayerOut, rows);
            backend.Add(hidden, sublayerOut);

            _preMlpNorm.Apply(hidden, normed, rows);
            _mlp.Forward(normed, sublayerOut, rows, s);
            _postMlpOutputNorm.Apply(sublayerOut, sublayerOut, rows);
            backend.Add(hidden, sublayerOut);
        }
    }
}
