using System.Text;
using System.Text.RegularExpressions;
using GlmSharp.Tokenizers;

namespace GlmSharp.Tests.Tokenizers;

public class Glm4PreTokenizerTests
{
    [Theory]
    [InlineData("it's I'LL we've", new[] { "it", "'s", " I", "'LL", " we", "'ve" })]
    [InlineData("1234567 x12", new[] { "123", "456", "7", " x", "12" })]
    [InlineData("大语言模型，好。", new[] { "大语言模型", "，好", "。" })]
    [InlineData("a   b", new[] { "a", "  ", " b" })]
    [InlineData("a \n\n b", new[] { "a", " \n\n", " b" })]
    [InlineData("x  ", new[] { "x", "  " })]
    [InlineData("hi!!\n\nyo", new[] { "hi", "!!\n\n", "yo" })]
    [InlineData(" ?!x", new[] { " ?!", "x" })]
    [InlineData("\tword", new[] { "\tword" })]
    [InlineData("$x", new[] { "$x" })]
    [InlineData("  123", new[] { " ", " ", "123" })]
    public void Splits_Like_The_Glm4_Regex(string text, string[] expected) =>
        Assert.Equal(expected, Glm4PreTokenizer.Split(text));

    [Fact]
    public void Scanner_Agrees_With_A_Regex_Engine_On_A_Varied_Corpus()
    {
        // .NET's \s is [\f\n\r\t\v\x85\p{Z}], the same set as the Rust/Oniguruma engines; the contraction group is
        // spelled without (?i) to avoid engine-specific case folding.
        // .NET's regex classifies UTF-16 units, so a code point outside the BMP (😀, 𝔸) reads as two surrogates
        // there: texts holding one are left to the llama.cpp oracle test.
        var regex = new Regex(Glm4PreTokenizer.LlamaCppPattern, RegexOptions.CultureInvariant);
        var texts = TokenizerCorpus.Training.Concat(TokenizerCorpus.Evaluation)
            .Where(t => !t.EnumerateRunes().Any(r => r.Value > 0xFFFF)).ToList();
        Assert.True(texts.Count >= 20);
        foreach (string text in texts)
        {
            var expected = regex.Matches(text).Select(m => m.Value).ToList();
            Assert.Equal(string.Concat(expected), text);
            Assert.Equal(expected, Glm4PreTokenizer.Split(text));
        }
    }
}
