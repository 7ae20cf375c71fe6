using System.IO.Compression;
using GlmSharp.Errors;
using GlmSharp.Tests.Support;
using GlmSharp.Training.Evaluation;

namespace GlmSharp.Tests.Training;

public sealed class TextScoreTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private WordList List(params string[] words)
    {
        string path = _dir.File("words.txt");
        File.WriteAllLines(path, words);
        return WordList.Load(path);
    }

    [Fact]
    public void Words_Are_Letter_Runs_With_One_Inner_Apostrophe()
    {
        Assert.Equal(["The", "man's", "dog", "who's", "years", "old", "don't", "o'clock"],
            WordList.Words("The man's dog, who's 3 years-old: don't! 'o'clock' 春天"));
    }

    [Fact]
    public void Known_Share_Counts_Words_In_The_List_Ignoring_Case()
    {
        var score = TextScore.Of("The cat sat on zxqv.", List("the", "cat", "sat", "on"));
        Assert.Equal(5, score.Words);
        Assert.Equal(4, score.KnownWords);
        Assert.Equal(0.8, score.KnownWordShare);
    }

    [Fact]
    public void Text_Without_English_Words_Has_No_Known_Share()
    {
        Assert.Equal(0, TextScore.Of("春眠不觉晓。 42", List("the")).KnownWordShare);
    }

    [Fact]
    public void A_Looping_Text_Has_Few_Distinct_Trigrams()
    {
        // a man who's | man who's a | who's a man | a man who's: 3 distinct of 4.
        Assert.Equal(0.75, TextScore.ShareOfDistinctTrigrams(["a", "man", "who's", "a", "man", "who's"]));
        Assert.Equal(1.0, TextScore.ShareOfDistinctTrigrams(["one", "two", "three", "four"]));
        Assert.Equal(1.0, TextScore.ShareOfDistinctTrigrams(["too", "short"]));
    }

    [Fact]
    public void Gzip_Lists_Are_Read_And_Blank_Lines_Skipped()
    {
        string path = _dir.File("words.gz");
        using (var gzip = new GZipStream(File.Create(path), CompressionLevel.Optimal))
        using (var writer = new StreamWriter(gzip))
            writer.Write("apple\n\nPear\n");
        var list = WordList.Load(path);
        Assert.Equal(2, list.Count);
        Assert.True(list.Contains("pear"));
    }

    [Fact]
    public void Missing_Empty_And_Corrupt_Lists_Are_Named_In_The_Error()
    {
        string missing = _dir.File("missing.txt");
        Assert.Equal($"{missing}: word list not found", Assert.Throws<GlmException>(() => WordList.Load(missing)).Message);

        string empty = _dir.File("empty.txt");
        File.WriteAllText(empty, "\n\n");
        Assert.Equal($"{empty}: the word list is empty", Assert.Throws<GlmException>(() => WordList.Load(empty)).Message);

        string corrupt = _dir.File("corrupt.gz");
        File.WriteAllText(corrupt, "not gzip at all");
        Assert.StartsWith($"{corrupt}: not a gzip file", Assert.Throws<GlmException>(() => WordList.Load(corrupt)).Message);
    }
}
