namespace GlmSharp.Inference;

/// <summary>What to generate and when to stop.</summary>
public sealed record GenerationOptions
{
    public int MaxTokens { get; init; } = 256;
    public SamplingOptions Sampling { get; init; } = new();

    /// <summary>Text that ends generation; it is not part of the output.</summary>
    public IReadOnlyList<string> StopStrings { get; init; } = [];

    /// <summary>Token ids that end generation; null means the model's own end-of-turn ids.</summary>
    public IReadOnlyList<int>? StopTokenIds { get; init; }

    /// <summary>Whether special tokens (GLM's <c>&lt;think&gt;</c>, <c>&lt;tool_call&gt;</c>, …) are written as text, for a parser to read.</summary>
    public bool IncludeSpecialTokens { get; init; }

    /// <summary>
    /// Null for no log-probabilities; else each chunk carries its token's and this many most likely alternatives'
    /// (0 to <see cref="TokenLogprobs.MaxTop"/>).
    /// </summary>
    public int? TopLogprobs { get; init; }

    /// <summary>Whether the reply must be one JSON object (OpenAI's <c>response_format: json_object</c>); it ends when the object closes.</summary>
    public bool JsonObject { get; init; }
}

/// <summary>Why generation ended.</summary>
public enum FinishReason
{
    /// <summary>A stop token or stop string.</summary>
    Stop,

    /// <summary>MaxTokens reached.</summary>
    Length,

    /// <summary>The context window is full.</summary>
    ContextFull,
}

/// <summary>
/// One step of a streamed generation: the token drawn (null on the closing chunk), the text that became safe to
/// show (never half a UTF-8 character, never part of a stop string), and on the last chunk why it ended.
/// </summary>
public readonly record struct GenerationChunk(int? TokenId, string Text, FinishReason? Finish = null)
{
    /// <summary>On the last chunk: how many prompt tokens came from a prefix cache instead of being computed.</summary>
    public int CachedPromptTokens { get; init; }

    /// <summary>The token's log-probabilities, when the request asked for them (<see cref="GenerationOptions.TopLogprobs"/>).</summary>
    public TokenLogprobs? Logprobs { get; init; }
}
