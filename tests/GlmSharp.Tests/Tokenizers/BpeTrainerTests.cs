using GlmSharp.Tokenizers;

namespace GlmSharp.Tests.Tokenizers;

public class BpeTrainerTests
{
    [Fact]
    public void Trained_Vocabulary_Has_Bytes_First_Specials_Last_And_The_Target_Size()
    {
        var v = TrainedVocabulary.Value;
        Assert.Equal(TrainedVocabulary.Size, v.Tokens.Count);
        for (int b = 0; b < 256; b++) Assert.Equal(ByteLevelAlphabet.CharOf((byte)b).ToString(), v.Tokens[b]);
        var specials = v.Tokens.Skip(v.Tokens.Count - BpeTrainer.GlmSpecialTokens.Count).ToList();
        Assert.Equal(BpeTrainer.GlmSpecialTokens, specials);
        Assert.All(v.Kinds.Skip(v.Tokens.Count - specials.Count), k => Assert.Equal(TokenKind.Control, k));
        Assert.Equal("<|endoftext|>", v.Tokens[v.SpecialIds.Eos!.Value]);
        Assert.Equal(v.Tokens.Count, v.Tokens.Distinct().Count());
    }

    [Fact]
    public void Training_Is_Deterministic()
    {
        var again = BpeTrainer.Train(TokenizerCorpus.Training, TrainedVocabulary.Size);
        Assert.Equal(TrainedVocabulary.Value.Tokens, again.Tokens);
        Assert.Equal(TrainedVocabulary.Value.Merges, again.Merges);
    }

    [Fact]
    public void Most_Frequent_Pair_Is_Merged_First_With_Ties_To_The_Smaller_Ids()
    {
        // Words: "ab" ×1, " ab" ×2, " cd" ×3, " xy" ×1. Pairs (Ġ,c), (a,b), (c,d) all count 3; byte ids are byte values,
        // so (Ġ=32, c) wins, then (a=97, b) beats the new (Ġc=256, d); (Ġ,a) with count 2 is never reached.
        var v = BpeTrainer.Train(["ab ab ab cd cd cd xy"], 256 + 3 + 1, specialTokens: ["<s>"]);
        Assert.Equal([("Ġ", "c"), ("a", "b"), ("Ġc", "d")], v.Merges);
    }

    [Fact]
    public void Encoding_The_Training_Text_Uses_Learned_Tokens()
    {
        var tok = new BpeTokenizer(TrainedVocabulary.Value);
        string text = TokenizerCorpus.Training.First(t => t.StartsWith("The quick", StringComparison.Ordinal));
        Assert.True(tok.Encode(text).Length < System.Text.Encoding.UTF8.GetByteCount(text) / 2);
    }
}
