using GlmSharp.Errors;
using GlmSharp.Tokenizers;

namespace GlmSharp.Training;

/// <summary>
/// Reads the plain-text corpus written by <c>scripts/prepare-corpus.sh</c>: documents separated by lines holding only
/// <c>&lt;|endoftext|&gt;</c>. Each document is encoded on its own (in parallel) and followed by the end-of-text id.
/// </summary>
public static class TextCorpus
{
    public const string DocumentSeparator = "<|endoftext|>";

    public static IReadOnlyList<string> ReadDocuments(string path)
    {
        if (!File.Exists(path)) throw new GlmException($"{path}: corpus file not found (run scripts/prepare-corpus.sh)");
        return File.ReadAllText(path)
            .Split($"\n{DocumentSeparator}\n")
            .Select(d => d.StartsWith(DocumentSeparator, StringComparison.Ordinal) ? d[DocumentSeparator.Length..] : d)
            .Select(d => d.Trim('\n'))
            .Where(d => d.Length > 0)
            .ToArray();
    }

    public static TokenStream Tokenize(IReadOnlyList<string> documents, BpeTokenizer tokenizer)
    {
        int endOfText = tokenizer.AddedTokenId(DocumentSeparator);
        var encoded = new int[documents.Count][];
        Parallel.For(0, documents.Count, i => encoded[i] = tokenizer.Encode(documents[i], parseSpecial: false));
        var ids = new int[encoded.Sum(e => e.Length + 1)];
        int at = 0;
        foreach (var document in encoded)
        {
            document.CopyTo(ids, at);
            at += document.Length;
            ids[at++] = endOfText;
        }
        return new TokenStream(ids);
    }
}
