using GlmSharp.Configs;
using GlmSharp.Errors;
using GlmSharp.Formats;
using GlmSharp.Kernels;
using GlmSharp.Models.Blocks;

namespace GlmSharp.Models.Architectures;

/// <summary>
/// GLM-4.7-Flash (<c>model_type: "glm4_moe_lite"</c>), which llama.cpp runs as <c>deepseek2</c>: DeepSeek-V2/V3's block —
///   h   = x + MLA(input_layernorm(x))
///   out = h + FFN(post_attention_layernorm(h))
/// with multi-head latent attention (<see cref="MlaAttention"/>: queries through a q_lora_rank bottleneck or, without one,
/// q_proj; keys and values from one cached latent of kv_lora_rank plus a shared RoPE key) and glm4_moe's FFN: a SwiGLU in
/// the first first_k_dense_replace layers, then sigmoid-routed experts with a selection bias plus shared experts.
/// RoPE turns adjacent pairs of the qk_rope_head_dim rotary dims: llama.cpp's deepseek2 uses ggml's NORM rope and its
/// converter leaves the q and kv_a rows as Hugging Face stores them (transformers' interleaved DeepSeek rope rotates the
/// same pairs). GGUF files come in two layouts: the current converter's per-head <c>attn_k_b</c> / <c>attn_v_b</c> (with
/// <c>key_length_mla</c> / <c>value_length_mla</c>), and the older fused <c>attn_kv_b</c>, which Hugging Face's
/// kv_b_proj also is; <see cref="MlaKvSplitTensorSource"/> serves the fused one split. The multi-token-prediction layer
/// (layer num_hidden_layers) is <see cref="CausalLm.NextN"/>: a block of this architecture that drafts for speculative
/// decoding and that the main forward pass never runs. It is read from Hugging Face folders and from GGUF files that
/// carry it (<c>blk.N.nextn.*</c> beside its MLA and MoE tensors, block_count counting it, as llama.cpp's newer
/// converter writes GLM-4.7-Flash); GGUF export leaves it out, because this llama.cpp's deepseek2 loader runs every
/// block as a main layer and refuses such a file ("wrong number of tensors").
/// </summary>
public sealed class Glm4MoeLite : IArchitecture
{
    public string ModelType => "glm4_moe_lite";
    public IReadOnlyList<string> HfModelTypes => [ModelType];
    public string GgufArchitecture => "deepseek2";

    public IReadOnlyList<TensorNamePair> LayerTensorNames => LayerNames;

    /// <summary>DeepSeek-V2/V3's layer tensors (MLA in both kv_b layouts, the dense SwiGLU, the experts, the NextN parts), which glm-dsa shares.</summary>
    internal static readonly TensorNamePair[] LayerNames =
    [
        new("input_layernorm.weight", "attn_norm.weight"),
        new("self_attn.q_a_proj.weight", "attn_q_a.weight"),
        new("self_attn.q_a_layernorm.weight", "attn_q_a_norm.weight"),
        new("self_attn.q_b_proj.weight", "attn_q_b.weight"),
        new("self_attn.q_proj.weight", "attn_q.weight"),
        new("self_attn.kv_a_proj_with_mqa.weight", "attn_kv_a_mqa.weight"),
        new("self_attn.kv_a_layernorm.weight", "attn_kv_a_norm.weight"),
        new("self_attn.kv_b_proj.weight", "attn_kv_b.weight"),
        new("self_attn.k_b_proj.weight", "attn_k_b.weight"),
        new("self_attn.v_b_proj.weight", "attn_v_b.weight"),
        new("self_attn.o_proj.weight", "attn_output.weight"),
        new("post_attention_layernorm.weight", "ffn_norm.weight"),
        .. GlmTensorNames.MoeFeedForward,
        .. GlmTensorNames.NextN,
    ];

    public ModelConfig ConfigFromHf(ConfigJson json)
    {
        var config = MlaMoeConfig.Glm4MoeLiteFromJson(json);
        MlaConfigRules.CheckHf(json, config);
        return Checked(config with { RopeScaling = RopeScalingField.Read(json, config.MaxPositions) }, json.Origin);
    }

    public ModelConfig ConfigFromGguf(GgufModelMetadata gguf)
    {
        var mla = MlaGgufKeys.Read(gguf);
        var (fields, nextN) = NextNGgufKeys.Read(gguf, gguf.DenseConfig(ModelType));
        return Checked(new MlaMoeConfig(MlaConfigRules.FromGguf(fields, mla), mla, MoeGgufKeys.Read(gguf), nextN), gguf.Origin);
    }

    private static MlaMoeConfig Checked(MlaMoeConfig c, string origin)
    {
        MlaConfigRules.Check(c, c.Mla, origin);
        return c;
    }

    public Dictionary<string, object> GgufMetadata(ModelConfig config)
    {
        var c = (MlaMoeConfig)config;
        string a = GgufArchitecture;
        var keys = Models.GgufModelMetadata.FromDenseConfig(c, a);
        MlaGgufKeys.Write(keys, a, c.Mla);
        MoeGgufKeys.Write(keys, a, c.Moe);
        return keys;
    }

    public ITensorSource Sanitize(ITensorSource weights, ConfigJson? hfConfig, ModelConfig config) => MlaConfigRules.ReadLayers(weights, config);

    /// <summary>Adjacent pairs over the qk_rope_head_dim rotary dims, as llama.cpp's deepseek2 (ggml NORM rope).</summary>
    public static RopeTable Rope(MlaMoeConfig config) => MlaConfigRules.Rope(config, config.Mla);

    public CausalLm Build(ModelConfig config, ITensorSource owner, WeightBuilder weights)
    {
        var c = (MlaMoeConfig)config;
        var rope = Rope(c);
        return CausalLm.FromLayers(c, owner, weights, rope, Layer, MtpLayer.After(c, weights, Layer));

        IDecoderLayer Layer(WeightBuilder w, int layer) =>
            new PreNormMoeDecoderLayer(new MlaAttention(w.At("self_attn"), weights.Backend, c, c.Mla, rope), w, weights.Backend, c, c.Moe, layer);
    }
}
