namespace GlmSharp.Training.Evaluation;

/// <summary>
/// How a generated text reads: how many English words it has, how many of them a word list knows, and the share of its
/// word 3-grams that are distinct (1 when nothing repeats; a text looping "a man who's a man who's" goes toward 0).
/// </summary>
public sealed record TextScore(int Words, int KnownWords, double DistinctTrigramShare)
{
    /// <summary>0 for a text without English words: a continuation of English must be English.</summary>
    public double KnownWordShare => Words == 0 ? 0 : (double)KnownWords / Words;

    public static TextScore Of(string text, WordList dictionary)
    {
        var words = WordList.Words(text);
        return new TextScore(words.Count, words.Count(dictionary.Contains), ShareOfDistinctTrigrams(words));
    }

    public static double ShareOfDistinctTrigrams(IReadOnlyList<string> words)
    {
        int total = words.Count - 2;
        if (total <= 0) return 1;
        var distinct = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (int i = 0; i < total; i++) distinct.Add($"{words[i]} {words[i + 1]} {words[i + 2]}");
        return (double)distinct.Count / total;
    }
}
