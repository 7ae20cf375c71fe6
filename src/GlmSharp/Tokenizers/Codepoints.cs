using System.Text;

namespace GlmSharp.Tokenizers;

internal static class Codepoints
{
    /// <summary>The code points of <paramref name="text"/> (a lone surrogate becomes U+FFFD, as UTF-8 encoding does)
    /// and, for each code point index plus one past the end, the char index where it starts.</summary>
    public static int[] Of(ReadOnlySpan<char> text, out int[] charStarts)
    {
        var cps = new int[text.Length];
        charStarts = new int[text.Length + 1];
        int count = 0, i = 0;
        while (i < text.Length)
        {
            Rune.DecodeFromUtf16(text[i..], out var rune, out int used);
            charStarts[count] = i;
            cps[count++] = rune.Value;
            i += used;
        }
        charStarts[count] = i;
        Array.Resize(ref cps, count);
        Array.Resize(ref charStarts, count + 1);
        return cps;
    }
}
