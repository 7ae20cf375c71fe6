namespace GlmSharp.Configs;

/// <summary>
/// Which key of its file each <see cref="ModelConfig"/> field came from, so that a value out of range is reported
/// under the name the user will find in the file.
/// </summary>
public sealed record ConfigKeys(string Vocab, string Hidden, string Layers, string Heads, string KvHeads, string HeadDim,
    string Intermediate, string Context, string RmsEps, string RopeTheta, string Rotary, string EosIds)
{
    public static ConfigKeys HuggingFace { get; } = new("vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads",
        "num_key_value_heads", "head_dim", "intermediate_size", "max_position_embeddings", "rms_norm_eps", "rope_theta",
        "partial_rotary_factor", "eos_token_id");

    /// <summary>THUDM's ChatGLM config.json.</summary>
    public static ConfigKeys ChatGlm { get; } = new("padded_vocab_size", "hidden_size", "num_layers", "num_attention_heads",
        "multi_query_group_num", "kv_channels", "ffn_hidden_size", "seq_length", "layernorm_epsilon", "rope_ratio",
        "kv_channels", "eos_token_id");

    /// <summary>llama.cpp's <c>{arch}.*</c> GGUF keys.</summary>
    public static ConfigKeys Gguf(string architecture) => new($"{architecture}.vocab_size", $"{architecture}.embedding_length",
        $"{architecture}.block_count", $"{architecture}.attention.head_count", $"{architecture}.attention.head_count_kv",
        $"{architecture}.attention.key_length", $"{architecture}.feed_forward_length", $"{architecture}.context_length",
        $"{architecture}.attention.layer_norm_rms_epsilon", $"{architecture}.rope.freq_base", $"{architecture}.rope.dimension_count",
        "tokenizer.ggml.eos_token_id");
}
