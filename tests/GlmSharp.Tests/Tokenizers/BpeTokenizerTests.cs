using GlmSharp.Errors;
using GlmSharp.Tokenizers;

namespace GlmSharp.Tests.Tokenizers;

public class BpeTokenizerTests
{
    [Fact]
    public void Lower_Ranked_Merge_Is_Applied_First()
    {
        // "abc": with (a b) ranked before (b c) the word becomes ab+c, then abc.
        var v = TinyVocabulary.Build(["a b", "b c", "ab c"]);
        var tok = new BpeTokenizer(v);
        Assert.Equal([TinyVocabulary.Id(v, "abc")], tok.Encode("abc"));

        // Swap the ranks: b+c merges first and no merge joins a with bc.
        var swapped = TinyVocabulary.Build(["b c", "a b", "ab c"]);
        Assert.Equal([(int)'a', TinyVocabulary.Id(swapped, "bc")], new BpeTokenizer(swapped).Encode("abc"));
    }

    [Fact]
    public void Equal_Ranks_Merge_Leftmost_First()
    {
        var v = TinyVocabulary.Build(["a a"]);
        int aa = TinyVocabulary.Id(v, "aa");
        Assert.Equal([aa, 'a'], new BpeTokenizer(v).Encode("aaa"));
        Assert.Equal([aa, aa], new BpeTokenizer(v).Encode("aaaa"));
    }

    [Fact]
    public void Words_Do_Not_Merge_Across_PreTokenizer_Boundaries()
    {
        // "Ġ" is the byte-level space: " b" is one word, so (a, Ġ) can never apply to "a b".
        var v = TinyVocabulary.Build(["a Ġ", "Ġ b"]);
        var tok = new BpeTokenizer(v);
        Assert.Equal(['a', TinyVocabulary.Id(v, "Ġb")], tok.Encode("a b"));
    }

    [Fact]
    public void Multibyte_Characters_Start_As_Their_Utf8_Bytes()
    {
        var v = TinyVocabulary.Build([]);
        Assert.Equal([0xE4, 0xB8, 0xAD], new BpeTokenizer(v).Encode("中"));
        Assert.Equal([0xF0, 0x9F, 0x98, 0x80], new BpeTokenizer(v).Encode("😀"));
    }

    [Fact]
    public void Special_Tokens_Are_Matched_Only_When_Parsing_Special()
    {
        var v = TinyVocabulary.Build([], specials: ["<|user|>"], userDefined: ["@@"]);
        var tok = new BpeTokenizer(v);
        int user = tok.AddedTokenId("<|user|>");
        int at = tok.AddedTokenId("@@");
        Assert.Equal(['a', user, 'b'], tok.Encode("a<|user|>b"));
        var literal = tok.Encode("a<|user|>b", parseSpecial: false);
        Assert.DoesNotContain(user, literal);
        Assert.Equal("a<|user|>b", tok.Decode(literal));
        // A user-defined (non-special) added token is matched either way, as in llama.cpp and Hugging Face.
        Assert.Equal(['x', at, 'y'], tok.Encode("x@@y", parseSpecial: false));
    }

    [Fact]
    public void Longer_Special_Token_Wins_Over_A_Token_It_Contains()
    {
        var v = TinyVocabulary.Build([], specials: ["<a>", "<a><b>"]);
        var tok = new BpeTokenizer(v);
        Assert.Equal([tok.AddedTokenId("<a><b>"), tok.AddedTokenId("<a>")], tok.Encode("<a><b><a>"));
    }

    [Fact]
    public void Sequence_Tokens_Are_Added_Only_When_Asked()
    {
        var v = TinyVocabulary.Build([], specials: ["[gMASK]", "<sop>"]);
        int gmask = TinyVocabulary.Id(v, "[gMASK]"), sop = TinyVocabulary.Id(v, "<sop>");
        var tok = new BpeTokenizer(v with { SequencePrefix = [gmask, sop] });
        Assert.Equal(['h', 'i'], tok.Encode("hi"));
        Assert.Equal([gmask, sop, 'h', 'i'], tok.Encode("hi", addSequenceTokens: true));
    }

    [Fact]
    public void Decode_Skips_Special_Tokens_On_Request()
    {
        var v = TinyVocabulary.Build([], specials: ["<|user|>"]);
        var tok = new BpeTokenizer(v);
        var ids = tok.Encode("<|user|>hi");
        Assert.Equal("<|user|>hi", tok.Decode(ids));
        Assert.Equal("hi", tok.Decode(ids, includeSpecial: false));
    }

    [Fact]
    public void Decode_Of_An_Id_Outside_The_Vocabulary_Throws()
    {
        var tok = new BpeTokenizer(TinyVocabulary.Build([]));
        var e = Assert.Throws<ContextLimitException>(() => tok.Decode([5, 256]));
        Assert.Contains("256", e.Message);
    }

    [Fact]
    public void Merge_Naming_An_Unknown_Token_Is_Rejected()
    {
        var v = TinyVocabulary.Build([]) with { Merges = [("a", "zz")] };
        var e = Assert.Throws<ModelFormatException>(() => new BpeTokenizer(v, "my-tokenizer.json"));
        Assert.Contains("my-tokenizer.json", e.Message);
        Assert.Contains("'zz'", e.Message);
    }

    [Fact]
    public void Vocabulary_Without_All_Byte_Tokens_Is_Rejected()
    {
        var v = TinyVocabulary.Build([]);
        var tokens = v.Tokens.ToArray();
        tokens[0x41] = "not-a-byte";
        var e = Assert.Throws<ModelFormatException>(() => new BpeTokenizer(v with { Tokens = tokens }, "vocab.gguf"));
        Assert.Contains("0x41", e.Message);
    }

    [Fact]
    public void Decode_Inverts_Encode_On_A_Varied_Corpus()
    {
        var tok = new BpeTokenizer(TrainedVocabulary.Value);
        foreach (string text in TokenizerCorpus.Training.Concat(TokenizerCorpus.Evaluation))
        {
            Assert.Equal(text, tok.Decode(tok.Encode(text)));
            Assert.Equal(text, tok.Decode(tok.Encode(text, parseSpecial: false)));
        }
    }

    [Fact]
    public void Cached_Words_Encode_The_Same_As_Fresh_Ones()
    {
        var tok = new BpeTokenizer(TrainedVocabulary.Value);
        string text = string.Join(" ", TokenizerCorpus.Evaluation);
        var first = tok.Encode(text);
        Assert.Equal(first, tok.Encode(text));
        Assert.Equal(first, new BpeTokenizer(TrainedVocabulary.Value).Encode(text));
    }
}
