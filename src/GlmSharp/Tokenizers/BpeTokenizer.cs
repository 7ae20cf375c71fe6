using System.Collections.Concurrent;
using System.Text;
using GlmSharp.Errors;

namespace GlmSharp.Tokenizers;

/// <summary>
/// GLM's byte-level BPE tokenizer: added tokens are cut out first, the rest is split by <see cref="Glm4PreTokenizer"/>,
/// each word's UTF-8 bytes are merged by rank. Decoding concatenates token bytes. Thread-safe.
/// </summary>
public sealed class BpeTokenizer
{
    private const int MaxCachedWords = 1 << 16;

    private readonly string[] _texts;
    private readonly TokenKind[] _kinds;
    private readonly byte[][] _bytes;
    private readonly int[] _byteTokens = new int[256];
    private readonly Dictionary<string, int> _normalIds;
    private readonly Dictionary<string, int> _addedIds;
    private readonly BpeMerges _merges;
    private readonly AddedTokenSplitter _splitter;
    private readonly ConcurrentDictionary<string, int[]> _wordCache = new();
    private readonly ConcurrentDictionary<string, int[]>.AlternateLookup<ReadOnlySpan<char>> _wordCacheBySpan;

    public TokenizerVocabulary Vocabulary { get; }

    public int VocabSize => _texts.Length;

    /// <summary>Builds the tables; <paramref name="origin"/> names the source file in error messages.</summary>
    public BpeTokenizer(TokenizerVocabulary vocabulary, string origin = "tokenizer")
    {
        Vocabulary = vocabulary;
        if (vocabulary.Tokens.Count != vocabulary.Kinds.Count)
            throw new ModelFormatException($"{origin}: {vocabulary.Tokens.Count} tokens but {vocabulary.Kinds.Count} token types");
        int n = vocabulary.Tokens.Count;
        _texts = [.. vocabulary.Tokens];
        _kinds = [.. vocabulary.Kinds];
        _bytes = new byte[n][];
        _normalIds = new Dictionary<string, int>(n, StringComparer.Ordinal);
        _addedIds = new Dictionary<string, int>(StringComparer.Ordinal);
        var added = new List<(string, int, bool)>();
        for (int id = 0; id < n; id++)
        {
            string text = _texts[id];
            switch (_kinds[id])
            {
                case TokenKind.Normal or TokenKind.Byte:
                    _bytes[id] = ByteLevelAlphabet.TryDecode(text) ?? Encoding.UTF8.GetBytes(text);
                    _normalIds[text] = id; // duplicates: the last id wins, as in llama.cpp's text-to-token map
                    break;
                case TokenKind.Control or TokenKind.Unknown or TokenKind.UserDefined:
                    _bytes[id] = Encoding.UTF8.GetBytes(text);
                    _addedIds[text] = id;
                    added.Add((text, id, _kinds[id] != TokenKind.UserDefined));
                    break;
                case TokenKind.Unused:
                    _bytes[id] = [];
                    break;
                default:
                    throw new ModelFormatException($"{origin}: token {id} '{text}' has unknown token type {(int)_kinds[id]}");
            }
        }
        for (int b = 0; b < 256; b++)
        {
            if (!_normalIds.TryGetValue(ByteLevelAlphabet.CharOf((byte)b).ToString(), out _byteTokens[b]))
                throw new ModelFormatException(
                    $"{origin}: byte 0x{b:X2} has no token ('{ByteLevelAlphabet.CharOf((byte)b)}'); a byte-level vocabulary needs all 256");
        }
        _merges = BuildMerges(vocabulary.Merges, origin);
        _splitter = new AddedTokenSplitter(added);
        _wordCacheBySpan = _wordCache.GetAlternateLookup<ReadOnlySpan<char>>();
        foreach (int id in vocabulary.SequencePrefix.Concat(vocabulary.SequenceSuffix)) CheckId(id, origin);
    }

    public TokenKind KindOf(int id) => _kinds[CheckId(id)];

    /// <summary>The token's stored text: byte-level alphabet for normal tokens, raw text for added ones.</summary>
    public string TokenText(int id) => _texts[CheckId(id)];

    /// <summary>The bytes this token stands for in decoded text (empty for unused padding ids).</summary>
    public ReadOnlySpan<byte> TokenToBytes(int id) => _bytes[CheckId(id)];

    public bool IsSpecial(int id) => KindOf(id) is TokenKind.Control or TokenKind.Unknown;

    /// <summary>Looks up an added or special token by its text ("&lt;|user|&gt;").</summary>
    public bool TryGetAddedToken(string text, out int id) => _addedIds.TryGetValue(text, out id);

    /// <summary>The id of an added or special token by its text; throws when the vocabulary has no such token.</summary>
    public int AddedTokenId(string text) =>
        _addedIds.TryGetValue(text, out int id) ? id : throw new GlmException($"the vocabulary has no added token '{text}'");

    /// <summary>Token ids for <paramref name="text"/>. Special tokens written in the text become their ids when
    /// <paramref name="parseSpecial"/>; <paramref name="addSequenceTokens"/> applies the checkpoint's post-processor
    /// (e.g. a leading <c>[gMASK]&lt;sop&gt;</c>).</summary>
    public int[] Encode(string text, bool parseSpecial = true, bool addSequenceTokens = false)
    {
        var ids = new List<int>(text.Length / 3 + 4);
        if (addSequenceTokens) ids.AddRange(Vocabulary.SequencePrefix);
        foreach (var fragment in _splitter.Split(text, parseSpecial))
        {
            if (fragment.IsText) EncodeText(text.AsSpan(fragment.Start, fragment.Length), ids);
            else ids.Add(fragment.TokenId);
        }
        if (addSequenceTokens) ids.AddRange(Vocabulary.SequenceSuffix);
        return [.. ids];
    }

    /// <summary>The text of <paramref name="ids"/>; invalid UTF-8 (a token sequence cut mid-character) becomes U+FFFD.</summary>
    public string Decode(ReadOnlySpan<int> ids, bool includeSpecial = true)
    {
        int length = 0;
        foreach (int id in ids) length += _bytes[CheckId(id)].Length;
        var buffer = length <= 1024 ? stackalloc byte[length] : new byte[length];
        int pos = 0;
        foreach (int id in ids)
        {
            if (!includeSpecial && IsSpecial(id)) continue;
            _bytes[id].CopyTo(buffer[pos..]);
            pos += _bytes[id].Length;
        }
        return Encoding.UTF8.GetString(buffer[..pos]);
    }

    private void EncodeText(ReadOnlySpan<char> text, List<int> ids)
    {
        var cps = Codepoints.Of(text, out var charStarts);
        var ends = new List<int>();
        Glm4PreTokenizer.Split(cps, ends);
        int start = 0;
        foreach (int end in ends)
        {
            ids.AddRange(EncodeWord(text[charStarts[start]..charStarts[end]]));
            start = end;
        }
    }

    private int[] EncodeWord(ReadOnlySpan<char> word)
    {
        if (_wordCacheBySpan.TryGetValue(word, out var cached)) return cached;

        int byteCount = Encoding.UTF8.GetByteCount(word);
        var bytes = byteCount <= 256 ? stackalloc byte[byteCount] : new byte[byteCount];
        Encoding.UTF8.GetBytes(word, bytes);
        int[] result;
        if (Vocabulary.IgnoreMerges && _normalIds.TryGetValue(ByteLevelAlphabet.Encode(bytes), out int whole))
        {
            result = [whole];
        }
        else
        {
            var symbols = new int[byteCount];
            for (int i = 0; i < byteCount; i++) symbols[i] = _byteTokens[bytes[i]];
            result = symbols[.._merges.Apply(symbols)];
        }

        if (_wordCache.Count >= MaxCachedWords) _wordCache.Clear();
        _wordCacheBySpan.TryAdd(word, result);
        return result;
    }

    private BpeMerges BuildMerges(IReadOnlyList<(string Left, string Right)> merges, string origin)
    {
        var pairs = new Dictionary<long, (int, int)>(merges.Count);
        for (int rank = 0; rank < merges.Count; rank++)
        {
            var (left, right) = merges[rank];
            int leftId = NormalId(left, rank, left, right, origin);
            int rightId = NormalId(right, rank, left, right, origin);
            int mergedId = NormalId(left + right, rank, left, right, origin);
            pairs.TryAdd(BpeMerges.Key(leftId, rightId), (rank, mergedId)); // a repeated merge keeps its first rank
        }
        return new BpeMerges(pairs);
    }

    private int NormalId(string text, int rank, string left, string right, string origin) =>
        _normalIds.TryGetValue(text, out int id) ? id
            : throw new ModelFormatException($"{origin}: merge #{rank} '{left} {right}' uses '{text}', which is not a token of the vocabulary");

    private int CheckId(int id, string? origin = null)
    {
        if ((uint)id >= (uint)_texts.Length)
            throw new ContextLimitException($"{origin ?? "tokenizer"}: token id {id} is outside the vocabulary (size {_texts.Length})");
        return id;
    }
}
