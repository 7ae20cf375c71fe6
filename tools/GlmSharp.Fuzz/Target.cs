namespace GlmSharp.Fuzz;

/// <summary>How a target's file is mutated.</summary>
internal enum InputKind
{
    /// <summary>A binary model file whose structure sits in front (GGUF metadata, a safetensors header).</summary>
    Binary,
    Json,
    /// <summary>The text of a chat message, run through the template and the tokenizer.</summary>
    ChatText,
}

/// <summary>
/// One fuzzed input file of the seed corpus: <see cref="File"/> (relative to the corpus) is replaced by a mutant, and
/// the model at <see cref="LoadPath"/> is then run the whole way. A target with an <see cref="Endpoint"/> fuzzes a
/// request body instead: the mutant is posted there, to <c>glm serve</c>'s application over that model.
/// </summary>
internal sealed record Target(string Name, string File, InputKind Kind, string LoadPath, string? Endpoint = null)
{
    public static IReadOnlyList<Target> All { get; } =
    [
        new("gguf-q8_0", "model-q8_0.gguf", InputKind.Binary, "model-q8_0.gguf"),
        new("gguf-q4_0", "model-q4_0.gguf", InputKind.Binary, "model-q4_0.gguf"),
        new("gguf-f16", "model-f16.gguf", InputKind.Binary, "model-f16.gguf"),
        new("safetensors", "hf/model.safetensors", InputKind.Binary, "hf"),
        new("safetensors-index", "sharded/model.safetensors.index.json", InputKind.Json, "sharded"),
        new("config", "hf/config.json", InputKind.Json, "hf"),
        new("generation-config", "hf/generation_config.json", InputKind.Json, "hf"),
        new("tokenizer", "hf/tokenizer.json", InputKind.Json, "hf"),
        new("tokenizer-config", "hf/tokenizer_config.json", InputKind.Json, "hf"),
        new("chat", "chat.txt", InputKind.ChatText, "hf"),
        new("gguf-moe", "model-moe-q8_0.gguf", InputKind.Binary, "model-moe-q8_0.gguf"),
        new("moe-config", "moe/config.json", InputKind.Json, "moe"),
        new("http-chat", "http/chat.json", InputKind.Json, "hf", "/v1/chat/completions"),
        new("http-chat-stream", "http/chat-stream.json", InputKind.Json, "hf", "/v1/chat/completions"),
        new("http-completions", "http/completions.json", InputKind.Json, "hf", "/v1/completions"),
        new("http-completions-stream", "http/completions-stream.json", InputKind.Json, "hf", "/v1/completions"),
    ];

    public static Target Named(string name) =>
        All.FirstOrDefault(t => t.Name == name) ?? throw new ArgumentException($"no fuzz target '{name}'; targets: {string.Join(", ", All.Select(t => t.Name))}");
}
