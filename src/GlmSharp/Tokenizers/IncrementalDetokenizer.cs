using System.Text;

namespace GlmSharp.Tokenizers;

/// <summary>
/// Turns a stream of token ids into text for streaming output. A character split across tokens (an emoji's four
/// bytes over two tokens) is held back until its last byte arrives, so no piece ever contains half a character.
/// Not thread-safe: one instance per stream.
/// </summary>
public sealed class IncrementalDetokenizer
{
    private readonly BpeTokenizer _tokenizer;
    private readonly bool _includeSpecial;
    private readonly Decoder _utf8 = Encoding.UTF8.GetDecoder();
    private char[] _chars = new char[64];

    public IncrementalDetokenizer(BpeTokenizer tokenizer, bool includeSpecial = true)
    {
        _tokenizer = tokenizer;
        _includeSpecial = includeSpecial;
    }

    /// <summary>The text completed by this token; empty while a character is still incomplete.</summary>
    public string Append(int id)
    {
        if (!_includeSpecial && _tokenizer.IsSpecial(id)) return "";
        return Convert(_tokenizer.TokenToBytes(id), flush: false);
    }

    /// <summary>Ends the stream: bytes of a character that never completed come out as U+FFFD.</summary>
    public string Flush() => Convert([], flush: true);

    private string Convert(ReadOnlySpan<byte> bytes, bool flush)
    {
        // Pending bytes of an incomplete character (at most 3) plus the new ones can complete at most this many chars.
        int needed = bytes.Length + 4;
        if (_chars.Length < needed) _chars = new char[Math.Max(needed, _chars.Length * 2)];
        int count = _utf8.GetChars(bytes, _chars, flush);
        return count == 0 ? "" : new string(_chars, 0, count);
    }
}
