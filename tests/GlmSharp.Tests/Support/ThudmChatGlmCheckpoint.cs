using System.Text.Json;
using GlmSharp.Formats.Safetensors;

namespace GlmSharp.Tests.Support;

/// <summary>
/// Writes a random glm checkpoint as THUDM published glm-4-9b-chat: <c>model_type: "chatglm"</c>, Megatron-style config
/// keys, tensors under <c>transformer.</c> with q, k and v fused in <c>query_key_value</c>, and the stored RoPE frequencies.
/// Names and keys are spelled out here from THUDM's modeling_chatglm.py / configuration_chatglm.py, not taken from GlmSharp.
/// </summary>
public static class ThudmChatGlmCheckpoint
{
    public static string Write(RandomGlmCheckpoint checkpoint, string folder, IReadOnlyDictionary<string, object>? configOverrides = null)
    {
        var spec = checkpoint.Spec;
        if (spec.ModelType != "glm" || spec.PartialRotary != 0.5 || spec.Tied)
            throw new ArgumentException($"THUDM's chatglm rotates half of each head and has its own output layer: {spec}");
        Directory.CreateDirectory(folder);
        var config = new Dictionary<string, object>
        {
            ["architectures"] = new[] { "ChatGLMModel" },
            ["model_type"] = "chatglm",
            ["add_bias_linear"] = false,
            ["add_qkv_bias"] = spec.Bias,
            ["apply_query_key_layer_scaling"] = true,
            ["apply_residual_connection_post_layernorm"] = false,
            ["attention_softmax_in_fp32"] = true,
            ["ffn_hidden_size"] = spec.Intermediate,
            ["hidden_size"] = spec.Hidden,
            ["kv_channels"] = spec.HeadDim,
            ["layernorm_epsilon"] = spec.RmsEps,
            ["multi_query_attention"] = true,
            ["multi_query_group_num"] = spec.KvHeads,
            ["num_attention_heads"] = spec.Heads,
            ["num_layers"] = spec.Layers,
            ["original_rope"] = true,
            ["padded_vocab_size"] = spec.Vocab,
            ["post_layer_norm"] = true,
            ["rmsnorm"] = true,
            ["rope_ratio"] = spec.RopeTheta / 10000,
            ["seq_length"] = spec.Context,
            ["tie_word_embeddings"] = false,
            ["eos_token_id"] = new[] { spec.Vocab - 1 },
            ["pad_token_id"] = spec.Vocab - 1,
        };
        foreach (var (key, value) in configOverrides ?? new Dictionary<string, object>()) config[key] = value;
        File.WriteAllText(Path.Combine(folder, "config.json"), JsonSerializer.Serialize(config));

        var writer = new SafetensorsWriter();
        foreach (var (name, (shape, values)) in checkpoint.WithFusedQkv().Tensors)
            writer.AddFloats(ThudmName(name), SafetensorsDtype.F32, shape, values);
        int rotaryPairs = spec.HeadDim / 4;
        writer.AddFloats("transformer.rotary_pos_emb.inv_freq", SafetensorsDtype.F32, [rotaryPairs],
            Enumerable.Range(0, rotaryPairs).Select(i => (float)Math.Pow(10000, -2.0 * i / (spec.HeadDim / 2))).ToArray());
        writer.WriteTo(Path.Combine(folder, "model.safetensors"));
        return folder;
    }

    private static string ThudmName(string hfName) => hfName switch
    {
        "model.embed_tokens.weight" => "transformer.embedding.word_embeddings.weight",
        "model.norm.weight" => "transformer.encoder.final_layernorm.weight",
        "lm_head.weight" => "transformer.output_layer.weight",
        _ => "transformer.encoder." + hfName["model.".Length..]
            .Replace(".self_attn.query_key_value.", ".self_attention.query_key_value.", StringComparison.Ordinal)
            .Replace(".self_attn.o_proj.", ".self_attention.dense.", StringComparison.Ordinal)
            .Replace(".mlp.gate_up_proj.", ".mlp.dense_h_to_4h.", StringComparison.Ordinal)
            .Replace(".mlp.down_proj.", ".mlp.dense_4h_to_h.", StringComparison.Ordinal),
    };
}
