using GlmSharp.Errors;

namespace GlmSharp.Tokenizers;

/// <summary>
/// The vocabulary a GGUF embeds under <c>tokenizer.ggml.*</c>, read from and written to a metadata dictionary of
/// plain .NET values (string, uint, int, string[], int[] …) as the GGUF reader and writer exchange them.
/// </summary>
public static class GgufVocabulary
{
    public const string ModelKey = "tokenizer.ggml.model";
    public const string PreKey = "tokenizer.ggml.pre";
    public const string TokensKey = "tokenizer.ggml.tokens";
    public const string TokenTypeKey = "tokenizer.ggml.token_type";
    public const string MergesKey = "tokenizer.ggml.merges";
    public const string ChatTemplateKey = "tokenizer.chat_template";
    public const string AddBosKey = "tokenizer.ggml.add_bos_token";

    private static readonly string[] SupportedPre = ["glm4", "chatglm-bpe"];

    public static TokenizerVocabulary FromMetadata(IReadOnlyDictionary<string, object> metadata, string origin)
    {
        string model = String(metadata, ModelKey, origin)
            ?? throw new ModelFormatException($"{origin}: required field '{ModelKey}' is missing");
        if (model != "gpt2")
            throw new UnsupportedModelException($"{origin}: field '{ModelKey}' is '{model}'; only byte-level BPE ('gpt2') is supported");
        string pre = String(metadata, PreKey, origin) ?? "default";
        if (!SupportedPre.Contains(pre))
            throw new UnsupportedModelException(
                $"{origin}: field '{PreKey}' is '{pre}'; GlmSharp implements the GLM pre-tokenizers ({string.Join(", ", SupportedPre)})");

        var tokens = Strings(metadata, TokensKey, origin)
            ?? throw new ModelFormatException($"{origin}: required field '{TokensKey}' is missing");
        var kinds = new TokenKind[tokens.Length];
        if (Ints(metadata, TokenTypeKey, origin) is { } types)
        {
            if (types.Length != tokens.Length)
                throw new ModelFormatException($"{origin}: field '{TokenTypeKey}' has {types.Length} entries, expected {tokens.Length} (one per token)");
            for (int i = 0; i < types.Length; i++)
            {
                if (types[i] is < 1 or > 6)
                    throw new ModelFormatException($"{origin}: field '{TokenTypeKey}'[{i}] is {types[i]}, expected 1..6");
                kinds[i] = (TokenKind)types[i];
            }
        }
        else Array.Fill(kinds, TokenKind.Normal);

        var mergeLines = Strings(metadata, MergesKey, origin)
            ?? throw new ModelFormatException($"{origin}: required field '{MergesKey}' is missing");
        var merges = new (string, string)[mergeLines.Length];
        for (int i = 0; i < mergeLines.Length; i++)
        {
            // Search from index 1, as llama.cpp does, so a merge whose left side starts with a space still splits.
            int space = mergeLines[i].Length > 1 ? mergeLines[i].IndexOf(' ', 1) : -1;
            if (space < 0)
                throw new ModelFormatException($"{origin}: field '{MergesKey}'[{i}] is '{mergeLines[i]}', expected two tokens separated by a space");
            merges[i] = (mergeLines[i][..space], mergeLines[i][(space + 1)..]);
        }

        return new TokenizerVocabulary
        {
            Tokens = tokens,
            Kinds = kinds,
            Merges = merges,
            PreTokenizer = pre,
            ChatTemplate = String(metadata, ChatTemplateKey, origin),
            SpecialIds = new SpecialTokenIds
            {
                Bos = Id(metadata, "bos", tokens.Length, origin),
                Eos = Id(metadata, "eos", tokens.Length, origin),
                Eot = Id(metadata, "eot", tokens.Length, origin),
                Eom = Id(metadata, "eom", tokens.Length, origin),
                Unk = Id(metadata, "unknown", tokens.Length, origin),
                Pad = Id(metadata, "padding", tokens.Length, origin),
            },
        };
    }

    /// <summary>The <c>tokenizer.*</c> keys a GGUF needs for llama.cpp to tokenize exactly as <paramref name="vocabulary"/> does.</summary>
    public static Dictionary<string, object> ToMetadata(TokenizerVocabulary vocabulary)
    {
        var metadata = new Dictionary<string, object>
        {
            [ModelKey] = "gpt2",
            [PreKey] = vocabulary.PreTokenizer,
            [TokensKey] = vocabulary.Tokens.ToArray(),
            [TokenTypeKey] = vocabulary.Kinds.Select(k => (int)k).ToArray(),
            [MergesKey] = vocabulary.Merges.Select(m => $"{m.Left} {m.Right}").ToArray(),
            // GLM prompts start with [gMASK]<sop> written by the chat template; no automatic BOS.
            [AddBosKey] = false,
        };
        var ids = vocabulary.SpecialIds;
        foreach (var (name, id) in new[] { ("bos", ids.Bos), ("eos", ids.Eos), ("eot", ids.Eot), ("eom", ids.Eom), ("unknown", ids.Unk), ("padding", ids.Pad) })
            if (id is int value) metadata[$"tokenizer.ggml.{name}_token_id"] = (uint)value;
        if (vocabulary.ChatTemplate is { } template) metadata[ChatTemplateKey] = template;
        return metadata;
    }

    private static string? String(IReadOnlyDictionary<string, object> m, string key, string origin) =>
        !m.TryGetValue(key, out var v) ? null
            : v as string ?? throw new ModelFormatException($"{origin}: field '{key}' must be a string, found {Describe(v)}");

    private static string[]? Strings(IReadOnlyDictionary<string, object> m, string key, string origin) => !m.TryGetValue(key, out var v) ? null : v switch
    {
        string[] a => a,
        IEnumerable<string> e => e.ToArray(),
        _ => throw new ModelFormatException($"{origin}: field '{key}' must be an array of strings, found {Describe(v)}"),
    };

    private static int[]? Ints(IReadOnlyDictionary<string, object> m, string key, string origin) => !m.TryGetValue(key, out var v) ? null : v switch
    {
        int[] a => a,
        uint[] a => a.Select(x => (int)Math.Min(x, int.MaxValue)).ToArray(),
        long[] a => a.Select(x => (int)Math.Clamp(x, int.MinValue, int.MaxValue)).ToArray(),
        sbyte[] a => a.Select(x => (int)x).ToArray(),
        byte[] a => a.Select(x => (int)x).ToArray(),
        _ => throw new ModelFormatException($"{origin}: field '{key}' must be an array of integers, found {Describe(v)}"),
    };

    private static int? Id(IReadOnlyDictionary<string, object> m, string role, int vocabSize, string origin)
    {
        string key = $"tokenizer.ggml.{role}_token_id";
        if (!m.TryGetValue(key, out var v)) return null;
        long id = v switch
        {
            uint u => u,
            int i => i,
            ulong u => (long)Math.Min(u, long.MaxValue),
            long l => l,
            _ => throw new ModelFormatException($"{origin}: field '{key}' must be an integer, found {Describe(v)}"),
        };
        if (id < 0 || id >= vocabSize)
            throw new ModelFormatException($"{origin}: field '{key}' is {id}, outside the vocabulary of {vocabSize} tokens");
        return (int)id;
    }

    private static string Describe(object v) => v is Array a ? $"{v.GetType().GetElementType()?.Name}[{a.Length}]" : $"{v.GetType().Name} '{v}'";
}
