using System.Diagnostics.CodeAnalysis;
using GlmSharp.Errors;

namespace GlmSharp.Configs;

/// <summary>
/// THUDM's own config.json (<c>model_type: "chatglm"</c>: glm-4-9b-chat, ChatGLM2/3), read into the <see cref="GlmConfig"/>
/// of the same network as transformers' convert_glm_weights_to_hf maps its keys. Defaults are those of THUDM's
/// ChatGLMConfig class. RoPE turns the first half of each head (modeling_chatglm builds it on kv_channels / 2 dims) with
/// base 10000·rope_ratio. Switches that change the network from GLM's are refused by name.
/// </summary>
internal static class ChatGlmConfigJson
{
    public static GlmConfig Read(ConfigJson j)
    {
        Require(j, "rmsnorm", true, "LayerNorm instead of RMSNorm");
        Require(j, "post_layer_norm", true, "no final norm");
        Require(j, "add_bias_linear", false, "biases on the output and MLP projections");
        Require(j, "apply_residual_connection_post_layernorm", false, "residuals taken after the norms");
        // Without it, q, k and v are interleaved per head inside query_key_value (ChatGLM-6B), not [q | k | v].
        Require(j, "multi_query_attention", true, "q, k and v interleaved per head", classDefault: false);
        if (j.OptInt("quantization_bit") is int bits and not 0)
            throw new UnsupportedModelException($"{j.Origin}: quantization_bit {bits} (THUDM's own int{bits} weights) is not supported");
        if (j.Has("pre_seq_len"))
            throw new UnsupportedModelException($"{j.Origin}: pre_seq_len (a P-tuning prefix encoder) is not supported");

        return new GlmConfig(new Fields
        {
            ModelType = "glm",
            VocabSize = j.OptInt("padded_vocab_size") ?? 65024,
            HiddenSize = j.OptInt("hidden_size") ?? 4096,
            NumLayers = j.OptInt("num_layers") ?? 28,
            NumHeads = j.OptInt("num_attention_heads") ?? 32,
            NumKvHeads = j.OptInt("multi_query_group_num") ?? 1,
            HeadDim = j.OptInt("kv_channels") ?? 128,
            IntermediateSize = j.OptInt("ffn_hidden_size") ?? 13696,
            MaxPositions = j.OptInt("seq_length") ?? 2048,
            RmsNormEps = j.OptDouble("layernorm_epsilon") ?? 1e-5,
            RopeTheta = 10000.0 * (j.OptDouble("rope_ratio") ?? 1),
            PartialRotaryFactor = 0.5,
            AttentionBias = j.OptBool("add_qkv_bias") ?? false,
            TieWordEmbeddings = false,
            EosTokenIds = j.IntOrIntList("eos_token_id"),
            PadTokenId = j.OptInt("pad_token_id"),
            Keys = ConfigKeys.ChatGlm,
        });
    }

    /// <summary>Refuses a switch that makes another network than GLM's (the class default is GLM's unless given).</summary>
    private static void Require(ConfigJson j, string key, bool glm, string otherwise, bool? classDefault = null)
    {
        bool value = j.OptBool(key) ?? classDefault ?? glm;
        if (value != glm)
            throw new UnsupportedModelException(
                $"{j.Origin}: {key} {Lower(value)} ({otherwise}) is not supported; GLM-4 checkpoints set it {Lower(glm)}");
    }

    private static string Lower(bool value) => value ? "true" : "false";

    [SuppressMessage("Performance", "CA1812", Justification = "Instantiated above.")]
    private sealed record Fields : ModelConfig;
}
