using GlmSharp.Configs;
using GlmSharp.Formats;

namespace GlmSharp.Models.Architectures;

/// <summary>
/// GLM (<c>model_type: "glm"</c>): glm-4-9b-chat-hf and GLM-Edge. A Llama-style pre-norm block —
///   h   = x + o_proj(Attention(RoPE(q), RoPE(k), v))   on input_layernorm(x)
///   out = h + down(silu(gate) · up)                    on post_attention_layernorm(h)
/// with interleaved (adjacent-pair) partial RoPE (GLM-Edge rotates the whole head), q/k/v bias when present,
/// a fused gate_up projection and, for GLM-Edge-1.5B, tied embeddings. llama.cpp calls it <c>chatglm</c>.
/// THUDM's first release of glm-4-9b-chat (<c>model_type: "chatglm"</c>, <c>transformer.encoder.layers.N.…</c>
/// names, a fused query_key_value) is the same network and reads as this architecture.
/// </summary>
public sealed class Glm : DenseGlm
{
    public override string ModelType => "glm";
    public override IReadOnlyList<string> HfModelTypes => ["glm", ChatGlmTensorNames.ModelType];
    public override string GgufArchitecture => "chatglm";
    public override IReadOnlyList<TensorNamePair> LayerTensorNames => GlmTensorNames.PreNormLayer;
    protected override bool SandwichNorms => false;

    public override ModelConfig ConfigFromHf(ConfigJson json) => HfConfigLoader.Parse(json);

    public override ModelConfig ConfigFromGguf(GgufModelMetadata gguf) => new GlmConfig(gguf.DenseConfig("glm"));

    public override ITensorSource Sanitize(ITensorSource weights, ConfigJson? hfConfig, ModelConfig config) =>
        base.Sanitize(hfConfig?.String("model_type") == ChatGlmTensorNames.ModelType ? new RenamedTensorSource(weights, ChatGlmTensorNames.ToHf) : weights,
            hfConfig, config);
}
