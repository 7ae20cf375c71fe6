using GlmSharp.Configs;
using GlmSharp.Errors;
using GlmSharp.Formats;
using GlmSharp.Kernels;
using GlmSharp.Models.Blocks;

namespace GlmSharp.Models.Architectures;

/// <summary>
/// GLM-4.5 / 4.6 / 4.7 and GLM-4.5-Air (<c>model_type: "glm4_moe"</c>, llama.cpp <c>glm4moe</c>). A pre-norm block —
///   h   = x + o_proj(Attention(RoPE(qk_norm(q)), RoPE(qk_norm(k)), v))   on input_layernorm(x)
///   out = h + FFN(post_attention_layernorm(h))
/// where FFN is a SwiGLU of intermediate_size in the first first_k_dense_replace layers and, after them, a sigmoid-routed
/// mixture of n_routed_experts SwiGLUs of moe_intermediate_size (the e_score_correction_bias steers the choice only;
/// group-limited top-k, norm_topk_prob, routed_scaling_factor) plus n_shared_experts shared ones. RoPE turns the first
/// half of each head in NeoX (split-half) order; q/k norms only with use_qk_norm (GLM-4.5/4.6/4.7, not Air).
/// The first of the num_nextn_predict_layers multi-token-prediction layers after the main stack (GGUF <c>blk.N.nextn.*</c>)
/// is built as <see cref="CausalLm.NextN"/>, a glm4_moe block of its own that drafts for speculative decoding; the main
/// forward pass never runs it.
/// </summary>
public sealed class Glm4Moe : IArchitecture
{
    public string ModelType => "glm4_moe";
    public IReadOnlyList<string> HfModelTypes => [ModelType];
    public string GgufArchitecture => "glm4moe";

    public IReadOnlyList<TensorNamePair> LayerTensorNames { get; } =
    [
        .. GlmTensorNames.PreNormLayer.Where(p => !p.HfName.StartsWith("mlp.", StringComparison.Ordinal) && p.HfName != "post_attention_layernorm.weight"),
        new("self_attn.q_norm.weight", "attn_q_norm.weight"),
        new("self_attn.k_norm.weight", "attn_k_norm.weight"),
        new("post_attention_layernorm.weight", "post_attention_norm.weight"), // llama.cpp's name for the pre-FFN norm here
        .. GlmTensorNames.MoeFeedForward,
        .. GlmTensorNames.NextN,
    ];

    public ModelConfig ConfigFromHf(ConfigJson json)
    {
        if (json.OptString("scoring_func") is { } scoring and not "sigmoid")
            throw new UnsupportedModelException($"{json.Origin}: scoring_func '{scoring}' is not supported; glm4_moe routes with sigmoid scores");
        return Glm4MoeConfig.FromJson(json);
    }

    public ModelConfig ConfigFromGguf(GgufModelMetadata gguf)
    {
        var moe = MoeGgufKeys.Read(gguf);
        var (fields, nextN) = NextNGgufKeys.Read(gguf, gguf.DenseConfig(ModelType));
        return new Glm4MoeConfig(fields, moe, gguf.HasTensor("blk.0.attn_q_norm.weight"), nextN);
    }

    public Dictionary<string, object> GgufMetadata(ModelConfig config)
    {
        var c = (Glm4MoeConfig)config;
        var keys = NextNGgufKeys.DenseKeys(c, c.NextNLayers, GgufArchitecture);
        MoeGgufKeys.Write(keys, GgufArchitecture, c.Moe);
        return keys;
    }

    public ITensorSource Sanitize(ITensorSource weights, ConfigJson? hfConfig, ModelConfig config) => new FusedQkvTensorSource(weights, config);

    public CausalLm Build(ModelConfig config, ITensorSource owner, WeightBuilder weights)
    {
        var c = (Glm4MoeConfig)config;
        // With M-RoPE sections (GLM-4.5V's text model) tokens carry (t, h, w, spare) positions; the pairs stay split
        // halves in both formats, so llama.cpp's converter leaves these q/k rows as they are.
        var rope = new RopeTable(RopeLayout.SplitHalves, c.RotaryDims, c.RopeTheta, c.MropeSections, c.RopeScaling);
        return CausalLm.FromLayers(c, owner, weights, rope, Layer, MtpLayer.After(c, weights, Layer));

        IDecoderLayer Layer(WeightBuilder w, int layer) =>
            new PreNormMoeDecoderLayer(GqaAttention.Load(w.At("self_attn"), weights.Backend, c, rope, headNorms: c.UseQkNorm), w, weights.Backend, c, c.Moe, layer);
    }
}
