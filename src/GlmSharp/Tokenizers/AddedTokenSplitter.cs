namespace GlmSharp.Tokenizers;

/// <summary>
/// Cuts added tokens out of the text before pre-tokenization, the way llama.cpp does: tokens are taken longest first
/// and every occurrence of one is cut from the still-unmatched text before the next token is looked for.
/// (Hugging Face scans leftmost-longest instead; the two differ only when added tokens overlap each other in the text.)
/// </summary>
internal sealed class AddedTokenSplitter
{
    private readonly (string Text, int Id, bool Special)[] _tokens;

    public AddedTokenSplitter(IEnumerable<(string Text, int Id, bool Special)> tokens)
    {
        _tokens = tokens.Where(t => t.Text.Length > 0)
            .OrderByDescending(t => System.Text.Encoding.UTF8.GetByteCount(t.Text)).ThenBy(t => t.Id).ToArray();
    }

    /// <summary>A piece of the input: either raw text [Start, Start+Length) or one added token.</summary>
    public readonly record struct Fragment(int Start, int Length, int TokenId)
    {
        public bool IsText => TokenId < 0;
    }

    /// <summary>Special tokens are matched only when <paramref name="parseSpecial"/>; non-special added tokens always.</summary>
    public List<Fragment> Split(string text, bool parseSpecial)
    {
        var fragments = new List<Fragment> { new(0, text.Length, -1) };
        foreach (var (tokenText, id, special) in _tokens)
        {
            if (special && !parseSpecial) continue;
            if (!text.Contains(tokenText, StringComparison.Ordinal)) continue;
            var cut = new List<Fragment>(fragments.Count + 2);
            foreach (var f in fragments)
            {
                if (!f.IsText) { cut.Add(f); continue; }
                int start = f.Start, end = f.Start + f.Length;
                while (start < end)
                {
                    int hit = text.AsSpan(start, end - start).IndexOf(tokenText, StringComparison.Ordinal);
                    if (hit < 0) break;
                    if (hit > 0) cut.Add(new Fragment(start, hit, -1));
                    cut.Add(new Fragment(start + hit, tokenText.Length, id));
                    start += hit + tokenText.Length;
                }
                if (start < end) cut.Add(new Fragment(start, end - start, -1));
            }
            fragments = cut;
        }
        return fragments;
    }
}
