using System.Text;
using System.Text.Json;
using GlmSharp.Inference;
using GlmSharp.Tokenizers;

namespace GlmSharp.Server;

/// <summary>A generated token with its log-probabilities.</summary>
internal readonly record struct ScoredToken(int TokenId, TokenLogprobs Logprobs);

/// <summary>
/// Token log-probabilities in OpenAI's two shapes: chat's list of tokens, each with its bytes and alternatives, and
/// the completions endpoint's parallel arrays. A token's text is its bytes read as UTF-8 (a token holding part of a
/// character shows a replacement character; its bytes say what it is).
/// </summary>
internal sealed class LogprobsJson(BpeTokenizer tokenizer)
{
    public void WriteChat(Utf8JsonWriter w, IReadOnlyList<ScoredToken> tokens)
    {
        w.WriteStartObject("logprobs");
        w.WriteStartArray("content");
        foreach (var token in tokens)
        {
            w.WriteStartObject();
            Token(w, token.TokenId, token.Logprobs.Logprob);
            w.WriteStartArray("top_logprobs");
            foreach (var alternative in token.Logprobs.Top)
            {
                w.WriteStartObject();
                Token(w, alternative.TokenId, alternative.Logprob);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    /// <param name="textOffset">Where the first token's text starts in the choice's text.</param>
    public void WriteCompletion(Utf8JsonWriter w, IReadOnlyList<ScoredToken> tokens, int textOffset)
    {
        var texts = tokens.Select(t => Text(t.TokenId)).ToArray();
        w.WriteStartObject("logprobs");
        w.WriteStartArray("tokens");
        foreach (string text in texts) w.WriteStringValue(text);
        w.WriteEndArray();
        w.WriteStartArray("token_logprobs");
        foreach (var token in tokens) w.WriteNumberValue(token.Logprobs.Logprob);
        w.WriteEndArray();
        w.WriteStartArray("top_logprobs");
        foreach (var token in tokens)
        {
            w.WriteStartObject();
            foreach (var alternative in token.Logprobs.Top) w.WriteNumber(Text(alternative.TokenId), alternative.Logprob);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartArray("text_offset");
        foreach (string text in texts)
        {
            w.WriteNumberValue(textOffset);
            textOffset += text.Length;
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    private void Token(Utf8JsonWriter w, int id, float logprob)
    {
        var bytes = tokenizer.TokenToBytes(id);
        w.WriteString("token", Encoding.UTF8.GetString(bytes));
        w.WriteNumber("logprob", logprob);
        w.WriteStartArray("bytes");
        foreach (byte b in bytes) w.WriteNumberValue(b);
        w.WriteEndArray();
    }

    private string Text(int id) => Encoding.UTF8.GetString(tokenizer.TokenToBytes(id));
}
