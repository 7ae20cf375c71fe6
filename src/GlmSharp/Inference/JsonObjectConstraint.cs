using GlmSharp.Tokenizers;

namespace GlmSharp.Inference;

/// <summary>
/// Keeps a reply to one JSON object (OpenAI's <c>response_format: json_object</c>): before each draw, every token whose
/// bytes cannot continue the text so far as a JSON object gets logit −∞, special tokens included; the reply is
/// complete when the object closes. The tokens' bytes are looked up once per vocabulary.
/// </summary>
public sealed class JsonObjectConstraint(BpeTokenizer tokenizer)
{
    private JsonPrefix _text;

    /// <summary>True once the object has closed.</summary>
    public bool IsComplete => _text.IsComplete;

    public void Mask(Span<float> logits)
    {
        for (int id = 0; id < logits.Length; id++)
        {
            if (float.IsNegativeInfinity(logits[id])) continue;
            var bytes = id < tokenizer.VocabSize && !tokenizer.IsSpecial(id) ? tokenizer.TokenToBytes(id) : [];
            var trial = _text;
            if (bytes.IsEmpty || !trial.Push(bytes)) logits[id] = float.NegativeInfinity;
        }
    }

    /// <summary>Takes the drawn token, which <see cref="Mask"/> allowed.</summary>
    public void Advance(int token)
    {
        if (!_text.Push(tokenizer.TokenToBytes(token)))
            throw new InvalidOperationException($"token {token} does not continue the JSON object; it was masked");
    }
}
