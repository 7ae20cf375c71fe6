namespace GlmSharp.Tokenizers;

/// <summary>The role-bearing token ids a GGUF records (<c>tokenizer.ggml.*_token_id</c>); null when absent.</summary>
public sealed record SpecialTokenIds
{
    public int? Bos { get; init; }
    public int? Eos { get; init; }
    /// <summary>End of turn (<c>&lt;|user|&gt;</c> for GLM).</summary>
    public int? Eot { get; init; }
    /// <summary>End of message (<c>&lt;|observation|&gt;</c> for GLM).</summary>
    public int? Eom { get; init; }
    public int? Unk { get; init; }
    public int? Pad { get; init; }
}
