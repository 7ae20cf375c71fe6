namespace GlmSharp.Tokenizers;

/// <summary>
/// Everything a byte-level BPE tokenizer is made of, independent of the file it came from (tokenizer.json or GGUF).
/// Token texts follow GGUF's convention: <see cref="TokenKind.Normal"/> tokens are in the byte-level alphabet
/// ("Ġthe"), added tokens (control, user-defined) hold their raw text ("&lt;|user|&gt;").
/// </summary>
public sealed record TokenizerVocabulary
{
    public required IReadOnlyList<string> Tokens { get; init; }
    public required IReadOnlyList<TokenKind> Kinds { get; init; }
    /// <summary>Merges in rank order (first = applied first); both sides are byte-level token texts.</summary>
    public required IReadOnlyList<(string Left, string Right)> Merges { get; init; }
    /// <summary>llama.cpp's pre-tokenizer name (<c>tokenizer.ggml.pre</c>): "glm4" or "chatglm-bpe".</summary>
    public string PreTokenizer { get; init; } = "glm4";
    public SpecialTokenIds SpecialIds { get; init; } = new();
    /// <summary>Hugging Face BPE's <c>ignore_merges</c>: a word that is itself a token is emitted whole.</summary>
    public bool IgnoreMerges { get; init; }
    /// <summary>Tokens a Hugging Face post-processor adds around a single sequence (GLM: <c>[gMASK]&lt;sop&gt;</c>).
    /// Applied only when encoding asks for it.</summary>
    public IReadOnlyList<int> SequencePrefix { get; init; } = [];
    public IReadOnlyList<int> SequenceSuffix { get; init; } = [];
    /// <summary>The checkpoint's Jinja chat template text, used to pick a <see cref="Chat.ChatTemplateStyle"/>.</summary>
    public string? ChatTemplate { get; init; }
}
