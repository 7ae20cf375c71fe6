namespace GlmSharp.Tokenizers;

/// <summary>What a vocabulary entry is; the values are GGUF's <c>tokenizer.ggml.token_type</c> codes.</summary>
public enum TokenKind
{
    /// <summary>A BPE token; its text is in the byte-level alphabet.</summary>
    Normal = 1,
    Unknown = 2,
    /// <summary>A special token (<c>[gMASK]</c>, <c>&lt;|user|&gt;</c>): matched in text only when special tokens are parsed.</summary>
    Control = 3,
    /// <summary>An added, non-special token: always matched in text; its text is raw, not byte-level.</summary>
    UserDefined = 4,
    /// <summary>A hole in the id range (padding); never produced by encoding.</summary>
    Unused = 5,
    Byte = 6,
}
