using GlmSharp.Tokenizers;

namespace GlmSharp.Tests.Tokenizers;

public class IncrementalDetokenizerTests
{
    [Fact]
    public void Emoji_Split_Over_Byte_Tokens_Comes_Out_Whole()
    {
        var tok = new BpeTokenizer(TinyVocabulary.Build([]));
        var ids = tok.Encode("a😀b"); // a, F0, 9F, 98, 80, b
        Assert.Equal(6, ids.Length);
        var detok = new IncrementalDetokenizer(tok);
        var pieces = ids.Select(detok.Append).ToList();
        Assert.Equal(["a", "", "", "", "😀", "b"], pieces);
        Assert.Equal("", detok.Flush());
    }

    [Fact]
    public void Cjk_Character_Split_Across_Merged_Tokens_Is_Held_Until_Complete()
    {
        // 中 = E4 B8 AD; merge the first two bytes so the character spans two tokens: [E4 B8] [AD].
        string e4 = ByteLevelAlphabet.CharOf(0xE4).ToString(), b8 = ByteLevelAlphabet.CharOf(0xB8).ToString();
        var tok = new BpeTokenizer(TinyVocabulary.Build([$"{e4} {b8}"]));
        var ids = tok.Encode("中文"); // [E4 B8] AD E6 96 87 (文 = E6 96 87 has no merge)
        Assert.Equal(5, ids.Length);
        var detok = new IncrementalDetokenizer(tok);
        Assert.Equal(["", "中", "", "", "文"], ids.Select(detok.Append).ToList());
    }

    [Fact]
    public void Incomplete_Character_At_End_Flushes_As_Replacement()
    {
        var tok = new BpeTokenizer(TinyVocabulary.Build([]));
        var detok = new IncrementalDetokenizer(tok);
        Assert.Equal("x", detok.Append('x'));
        Assert.Equal("", detok.Append(0xE4));
        Assert.Equal("", detok.Append(0xB8));
        Assert.Equal("\uFFFD", detok.Flush());
    }

    [Fact]
    public void Streamed_Text_Equals_Decoded_Text_For_The_Corpus()
    {
        var tok = new BpeTokenizer(TrainedVocabulary.Value);
        foreach (string text in TokenizerCorpus.Evaluation)
        {
            var detok = new IncrementalDetokenizer(tok);
            var ids = tok.Encode(text);
            var pieces = ids.Select(detok.Append).Append(detok.Flush()).ToList();
            Assert.Equal(text, string.Concat(pieces));
            Assert.DoesNotContain(pieces, p => p.Length > 0 && (char.IsHighSurrogate(p[^1]) || char.IsLowSurrogate(p[0]) || p.Contains('\uFFFD')));
        }
    }
}
