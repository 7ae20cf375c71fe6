using GlmSharp.Configs;

namespace GlmSharp.Models.Architectures;

/// <summary>
/// GLM-4-0414 / Z1 (<c>model_type: "glm4"</c>). The GLM block with a "sandwich": each sub-layer's output is
/// normalised again before it joins the residual stream —
///   h   = x + post_self_attn_layernorm(Attention(input_layernorm(x)))
///   out = h + post_mlp_layernorm(MLP(post_attention_layernorm(h)))
/// (post_attention_layernorm is the pre-MLP norm despite its name). Interleaved partial RoPE on the first
/// head_dim·partial_rotary_factor dims, q/k/v bias when present (9B yes, 32B no), fused gate_up.
/// </summary>
public sealed class Glm4 : DenseGlm
{
    public override string ModelType => "glm4";
    public override string GgufArchitecture => "glm4";
    public override IReadOnlyList<TensorNamePair> LayerTensorNames => GlmTensorNames.SandwichLayer;
    protected override bool SandwichNorms => true;

    public override ModelConfig ConfigFromHf(ConfigJson json) => Glm4Config.FromJson(json);

    public override ModelConfig ConfigFromGguf(GgufModelMetadata gguf) => new Glm4Config(gguf.DenseConfig("glm4"));
}
