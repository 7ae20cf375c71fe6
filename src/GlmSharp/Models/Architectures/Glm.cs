using GlmSharp.Configs;
using GlmSharp.Formats;
using GlmSharp.Kernels;
using GlmSharp.Kernels.Paging;
using GlmSharp.Models.Blocks;

namespace GlmSharp.Models.Architectures;

/// <summary>
/// GLM (<c>model_type: "glm"</c>): glm-4-9b-chat-hf and GLM-Edge. A Llama-style pre-norm block —
///   h   = x + o_proj(Attention(RoPE(q), RoPE(k), v))   on input_layernorm(x)
///   out = h + down(silu(gate) · up)                    on post_attention_layernorm(h)
/// with interleaved (adjacent-pair) partial RoPE (GLM-Edge rotates the whole head), q/k/v bias when present,
/// a fused gate_up projection and, for GLM-Edge-1.5B, tied embeddings. llama.cpp calls it <c>chatglm</c>.
/// </summary>
public sealed class Glm : IArchitecture
{
    public string ModelType => "glm";
    public string GgufArchitecture => "chatglm";


    public ModelConfig ConfigFromGguf(GgufModelMetadata gguf) => new GlmConfig(gguf.DenseConfig("glm"));

    public IReadOnlyList<TensorNamePair> LayerTensorNames => GlmTensorNames.PreNormLayer;

    public CausalLm Build(ModelConfig config, ITensorSource owner, WeightBuilder weights)
    {
        var rope = new RopeTable(RopeLayout.AdjacentPairs, config.RotaryDims, config.RopeTheta, scaling: config.RopeScaling);
        return CausalLm.FromLayers(config, owner, weights, layer => new Layer(layer, weights.Backend, config, rope));
    }

    private sealed class Layer(WeightBuilder w, IComputeBackend backend, ModelConfig c, RopeTable rope) : IDecoderLayer
    {
        private readonly RmsNorm _inputNorm = RmsNorm.Load(w, backend, "input_layernorm", c.HiddenSize, c.RmsNormEps);
        private readonly GqaAttention _attention = GqaAttention.Load(w.At("self_attn"), backend, c, rope);
        private readonly RmsNorm _preMlpNorm = RmsNorm.Load(w, backend, "post_attention_layernorm", c.HiddenSize, c.RmsNormEps);
        private readonly SwiGluMlp _mlp = SwiGluMlp.LoadFused(w.At("mlp"), backend, c.HiddenSize, c.IntermediateSize);

        public LayerCacheSpec CacheSpec => _attention.CacheSpec;

        public void Forward(Span<float> hidden, in ForwardStep step, LayerCache cache)
        {
            int rows = step.Rows;
            var s = step.Scratch;
            var normed = s.Normed(rows);
            var sublayerOut = s.Projected(rows);

            _inputNorm.Apply(hidden, normed, rows);
            _attention.Forward(normed, sublayerOut, step, cache);
            backend.Add(hidden, sublayerOut);

            _preMlpNorm.Apply(hidden, normed, rows);
            _mlp.Forward(normed, sublayerOut, rows, s);
            backend.Add(hidden, sublayerOut);
        }
    }
}
