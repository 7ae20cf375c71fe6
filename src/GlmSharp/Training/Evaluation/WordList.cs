using System.IO.Compression;
using System.Text.RegularExpressions;
using GlmSharp.Errors;

namespace GlmSharp.Training.Evaluation;

/// <summary>
/// A list of English words, one a line, plain or gzip-compressed (such as Debian's wamerican list that the tests carry
/// in tests/GlmSharp.Tests/WordList). Words are matched case-insensitively: the list spells proper nouns with a capital,
/// and generated text capitalises the first word of each sentence.
/// </summary>
public sealed partial class WordList
{
    private readonly HashSet<string> _words;

    private WordList(IEnumerable<string> words) => _words = new HashSet<string>(words, StringComparer.OrdinalIgnoreCase);

    public int Count => _words.Count;

    public static WordList Load(string path)
    {
        if (!File.Exists(path)) throw new GlmException($"{path}: word list not found");
        using var file = File.OpenRead(path);
        using var text = new StreamReader(path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? new GZipStream(file, CompressionMode.Decompress) : file);
        string content;
        try
        {
            content = text.ReadToEnd();
        }
        catch (InvalidDataException e)
        {
            throw new GlmException($"{path}: not a gzip file ({e.Message})", e);
        }
        var list = new WordList(content.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        if (list.Count == 0) throw new GlmException($"{path}: the word list is empty");
        return list;
    }

    public bool Contains(string word) => _words.Contains(word);

    /// <summary>The English words of a text: runs of ASCII letters, with one inner apostrophe allowed ("who's", "don't").</summary>
    public static IReadOnlyList<string> Words(string text) => EnglishWord().Matches(text).Select(m => m.Value).ToArray();

    [GeneratedRegex("[A-Za-z]+(?:'[A-Za-z]+)?")]
    private static partial Regex EnglishWord();
}
