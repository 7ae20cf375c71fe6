using System.Globalization;

namespace GlmSharp.Models;

/// <summary>
/// Hugging Face ↔ llama.cpp tensor names of the dense GLM family. Per-layer names live under
/// <c>model.layers.N.</c> and <c>blk.N.</c>; the fused gate_up projection keeps its fusion in GGUF as <c>ffn_up</c>.
/// </summary>
public static class GlmTensorNames
{
    /// <summary>
    /// A layer's q, k and v projections stored as one tensor (llama.cpp's <c>attn_qkv</c>, THUDM's chatglm
    /// <c>query_key_value</c>). Models never load it: <see cref="FusedQkvTensorSource"/> hands out its rows as the
    /// three projections.
    /// </summary>
    public const string FusedQkv = "self_attn.query_key_value";

    public static readonly IReadOnlyList<TensorNamePair> Global =
    [
        new("model.embed_tokens.weight", "token_embd.weight"),
        new("model.norm.weight", "output_norm.weight"),
        new("lm_head.weight", "output.weight"),
    ];

    public static readonly IReadOnlyList<TensorNamePair> PreNormLayer =
    [
        new("input_layernorm.weight", "attn_norm.weight"),
        new("self_attn.q_proj.weight", "attn_q.weight"),
        new("self_attn.q_proj.bias", "attn_q.bias"),
        new("self_attn.k_proj.weight", "attn_k.weight"),
        new("self_attn.k_proj.bias", "attn_k.bias"),
        new("self_attn.v_proj.weight", "attn_v.weight"),
        new("self_attn.v_proj.bias", "attn_v.bias"),
        new(FusedQkv + ".weight", "attn_qkv.weight"),
        new(FusedQkv + ".bias", "attn_qkv.bias"),
        new("self_attn.o_proj.weight", "attn_output.weight"),
        new("post_attention_layernorm.weight", "ffn_norm.weight"),
        new("mlp.gate_up_proj.weight", "ffn_up.weight"),
        new("mlp.down_proj.weight", "ffn_down.weight"),
    ];

    /// <summary>
    /// The feed-forward of a glm4_moe-style layer in both formats: a dense lead layer's split MLP, the router and its
    /// selection bias, the routed experts (one tensor per kind in GGUF, merged or with gate and up fused) and the shared
    /// experts. glm4_moe, glm4_moe_lite and glm_moe_dsa name them alike.
    /// </summary>
    public static readonly IReadOnlyList<TensorNamePair> MoeFeedForward =
    [
        new("mlp.gate_proj.weight", "ffn_gate.weight"),
        new("mlp.up_proj.weight", "ffn_up.weight"),
        new("mlp.down_proj.weight", "ffn_down.weight"),
        new("mlp.gate.weight", "ffn_gate_inp.weight"),
        new("mlp.gate.e_score_correction_bias", "exp_probs_b.bias"),
        new("mlp.experts.gate_proj.weight", "ffn_gate_exps.weight"),
        new("mlp.experts.up_proj.weight", "ffn_up_exps.weight"),
        new("mlp.experts.down_proj.weight", "ffn_down_exps.weight"),
        new("mlp.experts.gate_up_proj.weight", "ffn_gate_up_exps.weight"),
        new("mlp.shared_experts.gate_proj.weight", "ffn_gate_shexp.weight"),
        new("mlp.shared_experts.up_proj.weight", "ffn_up_shexp.weight"),
        new("mlp.shared_experts.down_proj.weight", "ffn_down_shexp.weight"),
    ];

    /// <summary>
    /// What a multi-token-prediction layer holds besides its decoder layer (glm4_moe, glm4_moe_lite and glm_moe_dsa alike):
    /// the norms of its two inputs, their projection, the head's norm and, optionally, an embedding and a head of its own.
    /// </summary>
    public static readonly IReadOnlyList<TensorNamePair> NextN =
    [
        new("embed_tokens.weight", "nextn.embed_tokens.weight"),
        new("enorm.weight", "nextn.enorm.weight"),
        new("hnorm.weight", "nextn.hnorm.weight"),
        new("eh_proj.weight", "nextn.eh_proj.weight"),
        new("shared_head.norm.weight", "nextn.shared_head_norm.weight"),
        new("shared_head.head.weight", "nextn.shared_head_head.weight"),
    ];

    /// <summary>GLM-4-0414: the pre-norm layer plus the two output norms (note the GGUF names: post_attention_norm is the attention-output norm here).</summary>
    public static readonly IReadOnlyList<TensorNamePair> SandwichLayer =
    [
        .. PreNormLayer,
        new("post_self_attn_layernorm.weight", "post_attention_norm.weight"),
        new("post_mlp_layernorm.weight", "post_ffw_norm.weight"),
    ];

    /// <summary>Maps a GGUF tensor name to its Hugging Face name, or null for a tensor the architecture does not use.</summary>
    public static string? GgufToHf(string ggufName, IReadOnlyList<TensorNamePair> layerNames)
    {
        foreach (var pair in Global)
            if (pair.GgufName == ggufName) return pair.HfName;
        int layer = LayerOf(ggufName);
        if (layer < 0) return null;
        var suffix = ggufName.AsSpan(ggufName.IndexOf('.', 4) + 1);
        foreach (var pair in layerNames)
            if (suffix.SequenceEqual(pair.GgufName)) return $"model.layers.{layer}.{pair.HfName}";
        return null;
    }

    /// <summary>The layer number of a GGUF name <c>blk.N.…</c>, or −1 for a tensor outside the layers.</summary>
    public static int LayerOf(string ggufName)
    {
        if (!ggufName.StartsWith("blk.", StringComparison.Ordinal)) return -1;
        int dot = ggufName.IndexOf('.', 4);
        return dot >= 0 && int.TryParse(ggufName.AsSpan(4, dot - 4), NumberStyles.None, CultureInfo.InvariantCulture, out int layer) ? layer : -1;
    }

    /// <summary>The layer number of a Hugging Face name <c>model.layers.N.…</c>, or −1 for a tensor outside the layers.</summary>
    public static int HfLayerOf(string hfName)
    {
        const string prefix = "model.layers.";
        if (!hfName.StartsWith(prefix, StringComparison.Ordinal)) return -1;
        int dot = hfName.IndexOf('.', prefix.Length);
        return dot > 0 && int.TryParse(hfName.AsSpan(prefix.Length, dot - prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out int layer) ? layer : -1;
    }

    /// <summary>Maps a Hugging Face tensor name to its GGUF name, or null when llama.cpp has no such tensor.</summary>
    public static string? HfToGguf(string hfName, IReadOnlyList<TensorNamePair> layerNames)
    {
        foreach (var pair in Global)
            if (pair.HfName == hfName) return pair.GgufName;
        int layer = HfLayerOf(hfName);
        if (layer < 0) return null;
        var suffix = hfName.AsSpan(hfName.IndexOf('.', "model.layers.".Length) + 1);
        foreach (var pair in layerNames)
            if (suffix.SequenceEqual(pair.HfName)) return $"blk.{layer}.{pair.GgufName}";
        return null;
    }
}
