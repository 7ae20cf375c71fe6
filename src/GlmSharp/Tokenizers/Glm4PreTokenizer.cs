namespace GlmSharp.Tokenizers;

/// <summary>
/// Splits text into the words BPE runs on, exactly as GLM-4's pre-tokenizer regex (the cl100k pattern)
/// <c>(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+</c>
/// does: alternatives are tried in order at each position and the first that matches wins.
/// Written as a scanner (as llama.cpp does for this pattern) because a backtracking regex is several times slower.
/// </summary>
public static class Glm4PreTokenizer
{
    /// <summary>The pattern as Hugging Face tokenizer.json files spell it; llama.cpp's spelling is accepted as well.</summary>
    public const string Pattern =
        @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    public const string LlamaCppPattern =
        @"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    public static bool IsSupportedPattern(string pattern) => pattern is Pattern or LlamaCppPattern;

    /// <summary>Appends the end index (exclusive, in code points) of every word of <paramref name="cps"/>.</summary>
    public static void Split(ReadOnlySpan<int> cps, List<int> wordEnds)
    {
        int pos = 0;
        while (pos < cps.Length)
        {
            pos = NextWordEnd(cps, pos);
            wordEnds.Add(pos);
        }
    }

    /// <summary>Convenience for tests and tools: the words of a string.</summary>
    public static List<string> Split(string text)
    {
        var cps = Codepoints.Of(text, out var charStarts);
        var ends = new List<int>();
        Split(cps, ends);
        var words = new List<string>(ends.Count);
        int start = 0;
        foreach (int end in ends)
        {
            words.Add(text[charStarts[start]..charStarts[end]]);
            start = end;
        }
        return words;
    }

    private static int NextWordEnd(ReadOnlySpan<int> cps, int pos)
    {
        int n = cps.Length;
        int cp = cps[pos];

        if (cp == '\'' && ContractionLength(cps, pos) is > 0 and var contraction) return pos + contraction;

        // [^\r\n\p{L}\p{N}]?\p{L}+
        if (!CodepointClass.IsNewline(cp) && !CodepointClass.IsNumber(cp)
            && (CodepointClass.IsLetter(cp) || pos + 1 < n && CodepointClass.IsLetter(cps[pos + 1])))
        {
            int end = pos + 1;
            while (end < n && CodepointClass.IsLetter(cps[end])) end++;
            return end;
        }

        // \p{N}{1,3}
        if (CodepointClass.IsNumber(cp))
        {
            int end = pos + 1;
            while (end < n && end - pos < 3 && CodepointClass.IsNumber(cps[end])) end++;
            return end;
        }

        // ' ?[^\s\p{L}\p{N}]+[\r\n]*'
        int symbolStart = cp == ' ' ? pos + 1 : pos;
        if (symbolStart < n && IsSymbol(cps[symbolStart]))
        {
            int end = symbolStart + 1;
            while (end < n && IsSymbol(cps[end])) end++;
            while (end < n && CodepointClass.IsNewline(cps[end])) end++;
            return end;
        }

        int runEnd = pos;
        int afterLastNewline = -1;
        while (runEnd < n && CodepointClass.IsWhitespace(cps[runEnd]))
        {
            if (CodepointClass.IsNewline(cps[runEnd])) afterLastNewline = runEnd + 1;
            runEnd++;
        }
        if (afterLastNewline > 0) return afterLastNewline;              // \s*[\r\n]+
        if (runEnd - pos > 1 && runEnd < n) return runEnd - 1;          // \s+(?!\S): leave the last space to the next word
        if (runEnd > pos) return runEnd;                                // \s+
        return pos + 1;
    }

    private static bool IsSymbol(int cp) =>
        !CodepointClass.IsWhitespace(cp) && !CodepointClass.IsLetter(cp) && !CodepointClass.IsNumber(cp);

    private static int ContractionLength(ReadOnlySpan<int> cps, int pos)
    {
        if (pos + 1 >= cps.Length) return 0;
        int a = AsciiLower(cps[pos + 1]);
        if (a is 's' or 't' or 'm' or 'd') return 2;
        if (pos + 2 >= cps.Length) return 0;
        int b = AsciiLower(cps[pos + 2]);
        return (a, b) is ('r', 'e') or ('v', 'e') or ('l', 'l') ? 3 : 0;
    }

    private static int AsciiLower(int cp) => cp is >= 'A' and <= 'Z' ? cp | 0x20 : cp;
}
