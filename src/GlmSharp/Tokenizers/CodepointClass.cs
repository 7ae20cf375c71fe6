using System.Globalization;

namespace GlmSharp.Tokenizers;

/// <summary>
/// The three character classes the GLM-4 pre-tokenizer regex uses: \p{L}, \p{N} and \s. \s is the fixed set
/// llama.cpp and the Rust/Oniguruma engines agree on (tab..CR, space, NEL and the Unicode space separators),
/// not .NET's char.IsWhiteSpace, which adds U+001C–U+001F.
/// </summary>
internal static class CodepointClass
{
    public static bool IsLetter(int cp)
    {
        if (cp < 0x80) return (uint)((cp | 0x20) - 'a') <= 'z' - 'a';
        return CharUnicodeInfo.GetUnicodeCategory(cp) is UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter
            or UnicodeCategory.TitlecaseLetter or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter;
    }

    public static bool IsNumber(int cp)
    {
        if (cp < 0x80) return (uint)(cp - '0') <= 9;
        return CharUnicodeInfo.GetUnicodeCategory(cp) is UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber
            or UnicodeCategory.OtherNumber;
    }

    public static bool IsWhitespace(int cp) => cp switch
    {
        >= 0x09 and <= 0x0D or 0x20 or 0x85 or 0xA0 or 0x1680 or >= 0x2000 and <= 0x200A
            or 0x2028 or 0x2029 or 0x202F or 0x205F or 0x3000 => true,
        _ => false,
    };

    public static bool IsNewline(int cp) => cp is '\r' or '\n';
}
