using System.Text.RegularExpressions;

namespace GlmSharp.Models;

/// <summary>
/// Tensor names of THUDM's chatglm checkpoints (glm-4-9b-chat as first published: <c>transformer.encoder.layers.N.…</c>)
/// and the Hugging Face glm names of the same weights, as transformers' convert_glm_weights_to_hf renames them. The fused
/// query_key_value keeps its fusion (<see cref="GlmTensorNames.FusedQkv"/>); the stored RoPE frequencies
/// (<c>transformer.rotary_pos_emb.inv_freq</c>) are recomputed, not read.
/// </summary>
public static partial class ChatGlmTensorNames
{
    public const string ModelType = "chatglm";

    private static readonly Dictionary<string, string> Global = new(StringComparer.Ordinal)
    {
        ["transformer.embedding.word_embeddings.weight"] = "model.embed_tokens.weight",
        ["transformer.encoder.final_layernorm.weight"] = "model.norm.weight",
        ["transformer.output_layer.weight"] = "lm_head.weight",
    };

    private static readonly Dictionary<string, string> Layer = new(StringComparer.Ordinal)
    {
        ["input_layernorm.weight"] = "input_layernorm.weight",
        ["self_attention.query_key_value.weight"] = GlmTensorNames.FusedQkv + ".weight",
        ["self_attention.query_key_value.bias"] = GlmTensorNames.FusedQkv + ".bias",
        ["self_attention.dense.weight"] = "self_attn.o_proj.weight",
        ["post_attention_layernorm.weight"] = "post_attention_layernorm.weight",
        ["mlp.dense_h_to_4h.weight"] = "mlp.gate_up_proj.weight",
        ["mlp.dense_4h_to_h.weight"] = "mlp.down_proj.weight",
    };

    /// <summary>The Hugging Face name of a THUDM tensor, or null for one GlmSharp does not read.</summary>
    public static string? ToHf(string thudmName)
    {
        if (Global.TryGetValue(thudmName, out var global)) return global;
        var match = LayerName().Match(thudmName);
        return match.Success && Layer.TryGetValue(match.Groups["suffix"].Value, out var suffix)
            ? $"model.layers.{match.Groups["layer"].Value}.{suffix}"
            : null;
    }

    [GeneratedRegex(@"^transformer\.encoder\.layers\.(?<layer>\d+)\.(?<suffix>.+)$")]
    private static partial Regex LayerName();
}
