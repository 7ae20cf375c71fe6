using System.Text;

namespace GlmSharp.Tokenizers;

/// <summary>
/// Learns a byte-level BPE vocabulary with GLM's pre-tokenizer. Ids: the 256 byte tokens in byte order, then one token
/// per learned merge, then the special tokens. Each step merges the most frequent adjacent pair over all words
/// (word frequency × occurrences); ties go to the pair with the smaller left token id, then the smaller right token id,
/// so the same corpus always gives the same vocabulary.
/// </summary>
public static class BpeTrainer
{
    /// <summary>GLM-4's special tokens, in the order of their ids in GLM checkpoints (151329 onward), plus the think tags.</summary>
    public static readonly IReadOnlyList<string> GlmSpecialTokens =
    [
        "<|endoftext|>", "[MASK]", "[gMASK]", "[sMASK]", "<sop>", "<eop>",
        "<|system|>", "<|user|>", "<|assistant|>", "<|observation|>", "<think>", "</think>",
    ];

    public static TokenizerVocabulary Train(IEnumerable<string> corpus, int vocabSize, IReadOnlyList<string>? specialTokens = null, string? chatTemplate = null)
    {
        specialTokens ??= GlmSpecialTokens;
        int learnedLimit = vocabSize - specialTokens.Count;
        if (learnedLimit < 256)
            throw new ArgumentOutOfRangeException(nameof(vocabSize), vocabSize, $"must be at least 256 byte tokens + {specialTokens.Count} special tokens");

        var tokens = new List<string>(vocabSize);
        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int b = 0; b < 256; b++) AddToken(tokens, ids, ByteLevelAlphabet.CharOf((byte)b).ToString());

        var words = CountWords(corpus, specialTokens);
        var state = new PairState(words);
        var merges = new List<(string, string)>();
        while (tokens.Count < learnedLimit && state.TryTakeBest(out int left, out int right))
        {
            string text = tokens[left] + tokens[right];
            int merged = ids.TryGetValue(text, out int existing) ? existing : AddToken(tokens, ids, text);
            merges.Add((tokens[left], tokens[right]));
            state.Merge(left, right, merged);
        }

        var kinds = Enumerable.Repeat(TokenKind.Normal, tokens.Count).ToList();
        foreach (string special in specialTokens)
        {
            tokens.Add(special);
            kinds.Add(TokenKind.Control);
        }
        int? Special(string text) => specialTokens.Contains(text) ? tokens.LastIndexOf(text) : null;
        return new TokenizerVocabulary
        {
            Tokens = tokens,
            Kinds = kinds,
            Merges = merges,
            PreTokenizer = "glm4",
            ChatTemplate = chatTemplate,
            SpecialIds = new SpecialTokenIds
            {
                Eos = Special("<|endoftext|>"),
                Pad = Special("<|endoftext|>"),
                Eot = Special("<|user|>"),
                Eom = Special("<|observation|>"),
            },
        };
    }

    private static int AddToken(List<string> tokens, Dictionary<string, int> ids, string text)
    {
        ids[text] = tokens.Count;
        tokens.Add(text);
        return tokens.Count - 1;
    }

    /// <summary>Distinct pre-tokenized words (as byte sequences) with their counts; special tokens are cut out first.</summary>
    private static List<(int[] Symbols, long Count)> CountWords(IEnumerable<string> corpus, IReadOnlyList<string> specialTokens)
    {
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        var ends = new List<int>();
        foreach (string text in corpus)
        {
            foreach (string fragment in text.Split([.. specialTokens], StringSplitOptions.RemoveEmptyEntries))
            {
                var cps = Codepoints.Of(fragment, out var charStarts);
                ends.Clear();
                Glm4PreTokenizer.Split(cps, ends);
                int start = 0;
                foreach (int end in ends)
                {
                    string word = fragment[charStarts[start]..charStarts[end]];
                    counts[word] = counts.GetValueOrDefault(word) + 1;
                    start = end;
                }
            }
        }
        return counts.OrderBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(kv => (Encoding.UTF8.GetBytes(kv.Key).Select(b => (int)b).ToArray(), kv.Value)).ToList();
    }

    /// <summary>Pair frequencies over all words, which words hold each pair, and a max-heap with lazy deletion.</summary>
    private sealed class PairState
    {
        private readonly List<(int[] Symbols, long Count)> _words;
        private readonly Dictionary<long, long> _counts = new();
        private readonly Dictionary<long, HashSet<int>> _where = new();
        private readonly PriorityQueue<long, (long NegCount, int Left, int Right)> _heap = new();

        public PairState(List<(int[] Symbols, long Count)> words)
        {
            _words = words;
            for (int w = 0; w < words.Count; w++) AddPairs(w, +1);
            foreach (var (key, count) in _counts) Push(key, count);
        }

        public bool TryTakeBest(out int left, out int right)
        {
            while (_heap.TryDequeue(out long key, out var priority))
            {
                long current = _counts.GetValueOrDefault(key);
                if (current <= 0 || current != -priority.NegCount) continue; // stale: re-queued with its new count
                (left, right) = ((int)(key >> 32), (int)key);
                return true;
            }
            left = right = -1;
            return false;
        }

        public void Merge(int left, int right, int merged)
        {
            long key = BpeMerges.Key(left, right);
            var changed = new HashSet<long>();
            foreach (int w in _where[key].Order().ToArray())
            {
                var symbols = _words[w].Symbols;
                if (!Contains(symbols, left, right)) continue;
                CollectPairs(symbols, changed);
                AddPairs(w, -1);
                _words[w] = (Replace(symbols, left, right, merged), _words[w].Count);
                AddPairs(w, +1);
                CollectPairs(_words[w].Symbols, changed);
            }
            _counts.Remove(key);
            foreach (long k in changed) if (_counts.GetValueOrDefault(k) > 0) Push(k, _counts[k]);
        }

        private void AddPairs(int w, int sign)
        {
            var (symbols, count) = _words[w];
            for (int i = 0; i + 1 < symbols.Length; i++)
            {
                long key = BpeMerges.Key(symbols[i], symbols[i + 1]);
                _counts[key] = _counts.GetValueOrDefault(key) + sign * count;
                if (sign > 0)
                {
                    if (!_where.TryGetValue(key, out var set)) _where[key] = set = [];
                    set.Add(w);
                }
            }
        }

        private static void CollectPairs(int[] symbols, HashSet<long> into)
        {
            for (int i = 0; i + 1 < symbols.Length; i++) into.Add(BpeMerges.Key(symbols[i], symbols[i + 1]));
        }

        private static bool Contains(int[] symbols, int left, int right)
        {
            for (int i = 0; i + 1 < symbols.Length; i++) if (symbols[i] == left && symbols[i + 1] == right) return true;
            return false;
        }

        /// <summary>Left-to-right, non-overlapping: the order in which encoding applies the same merge.</summary>
        private static int[] Replace(int[] symbols, int left, int right, int merged)
        {
            var result = new List<int>(symbols.Length);
            for (int i = 0; i < symbols.Length; i++)
            {
                if (i + 1 < symbols.Length && symbols[i] == left && symbols[i + 1] == right) { result.Add(merged); i++; }
                else result.Add(symbols[i]);
            }
            return [.. result];
        }

        private void Push(long key, long count) => _heap.Enqueue(key, (-count, (int)(key >> 32), (int)key));
    }
}
