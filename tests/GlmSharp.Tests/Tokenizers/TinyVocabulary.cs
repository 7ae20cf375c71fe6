using GlmSharp.Tokenizers;

namespace GlmSharp.Tests.Tokenizers;

/// <summary>Hand-made vocabularies: the 256 byte tokens (id = byte value), then one token per merge, then specials.</summary>
internal static class TinyVocabulary
{
    public static TokenizerVocabulary Build(string[] merges, string[]? specials = null, string[]? userDefined = null)
    {
        var tokens = Enumerable.Range(0, 256).Select(b => ByteLevelAlphabet.CharOf((byte)b).ToString()).ToList();
        var kinds = Enumerable.Repeat(TokenKind.Normal, 256).ToList();
        var pairs = new List<(string, string)>();
        foreach (string merge in merges)
        {
            var parts = merge.Split(' ');
            pairs.Add((parts[0], parts[1]));
            if (!tokens.Contains(parts[0] + parts[1])) { tokens.Add(parts[0] + parts[1]); kinds.Add(TokenKind.Normal); }
        }
        foreach (string s in specials ?? []) { tokens.Add(s); kinds.Add(TokenKind.Control); }
        foreach (string s in userDefined ?? []) { tokens.Add(s); kinds.Add(TokenKind.UserDefined); }
        return new TokenizerVocabulary { Tokens = tokens, Kinds = kinds, Merges = pairs };
    }

    public static int Id(TokenizerVocabulary v, string text) => v.Tokens.ToList().IndexOf(text);
}
