using System.Text.Json;
using GlmSharp.Errors;

namespace GlmSharp.Tokenizers;

/// <summary>
/// Reads a Hugging Face <c>tokenizer.json</c> (and, when present, <c>tokenizer_config.json</c>) into a
/// <see cref="TokenizerVocabulary"/>. Only what GLM checkpoints use is accepted: a byte-level BPE model, no normalizer,
/// the GLM-4 Split regex followed by ByteLevel, a ByteLevel decoder. Anything else is refused with the field named.
/// </summary>
public static class HfTokenizerLoader
{
    public const string TokenizerFile = "tokenizer.json";
    public const string ConfigFile = "tokenizer_config.json";

    /// <summary>Loads <c>tokenizer.json</c> and, if it exists, <c>tokenizer_config.json</c> from a checkpoint directory.</summary>
    public static TokenizerVocabulary LoadDirectory(string directory)
    {
        string config = Path.Combine(directory, ConfigFile);
        return Load(Path.Combine(directory, TokenizerFile), File.Exists(config) ? config : null);
    }

    public static TokenizerVocabulary Load(string tokenizerJsonPath, string? tokenizerConfigPath = null)
    {
        if (!File.Exists(tokenizerJsonPath)) throw new ModelFormatException($"{tokenizerJsonPath}: file not found");
        string? config = null;
        if (tokenizerConfigPath is not null)
        {
            if (!File.Exists(tokenizerConfigPath)) throw new ModelFormatException($"{tokenizerConfigPath}: file not found");
            config = File.ReadAllText(tokenizerConfigPath);
        }
        return Parse(File.ReadAllText(tokenizerJsonPath), tokenizerJsonPath, config, tokenizerConfigPath);
    }

    public static TokenizerVocabulary Parse(string tokenizerJson, string origin, string? tokenizerConfigJson = null, string? configOrigin = null)
    {
        using var doc = ParseJson(tokenizerJson, origin);
        var root = doc.RootElement;
        using var configDoc = tokenizerConfigJson is null ? null : ParseJson(tokenizerConfigJson, configOrigin ?? ConfigFile);
        var config = configDoc?.RootElement;
        configOrigin ??= ConfigFile;

        var model = Child(root, "model", origin) ?? throw new ModelFormatException($"{origin}: required field 'model' is missing");
        CheckModelType(model, origin);
        CheckNormalizer(root, origin);
        CheckPreTokenizer(root, origin);
        CheckDecoder(root, origin);

        var vocab = Child(model, "vocab", origin, "model.vocab")
            ?? throw new ModelFormatException($"{origin}: required field 'model.vocab' is missing");
        var normal = new Dictionary<int, string>();
        foreach (var entry in vocab.EnumerateObject())
        {
            if (entry.Value.ValueKind != JsonValueKind.Number || !entry.Value.TryGetInt32(out int id) || id < 0)
                throw new ModelFormatException($"{origin}: field 'model.vocab' maps '{entry.Name}' to {entry.Value.GetRawText()}, expected a non-negative integer id");
            normal[id] = entry.Name;
        }

        var added = new Dictionary<int, (string Content, bool Special)>();
        if (Child(root, "added_tokens", origin, kind: JsonValueKind.Array) is { } addedTokens)
        {
            foreach (var t in addedTokens.EnumerateArray())
            {
                int id = RequiredInt(t, "id", origin, "added_tokens[].id");
                added[id] = (RequiredString(t, "content", origin, "added_tokens[].content"), OptBool(t, "special") ?? false);
            }
        }
        if (config is { } cfg && Child(cfg, "added_tokens_decoder", configOrigin) is { } decoderTokens)
        {
            foreach (var entry in decoderTokens.EnumerateObject())
            {
                if (!int.TryParse(entry.Name, out int id) || id < 0)
                    throw new ModelFormatException($"{configOrigin}: field 'added_tokens_decoder' has key '{entry.Name}', expected a token id");
                added.TryAdd(id, (RequiredString(entry.Value, "content", configOrigin, $"added_tokens_decoder.{entry.Name}.content"),
                    OptBool(entry.Value, "special") ?? false));
            }
        }

        int size = Math.Max(normal.Count == 0 ? 0 : normal.Keys.Max(), added.Count == 0 ? -1 : added.Keys.Max()) + 1;
        var tokens = new string[size];
        var kinds = new TokenKind[size];
        for (int id = 0; id < size; id++)
        {
            if (added.TryGetValue(id, out var a)) { tokens[id] = a.Content; kinds[id] = a.Special ? TokenKind.Control : TokenKind.UserDefined; }
            else if (normal.TryGetValue(id, out var text)) { tokens[id] = text; kinds[id] = TokenKind.Normal; }
            else { tokens[id] = $"[PAD{id}]"; kinds[id] = TokenKind.Unused; }
        }

        int? Find(string? text) => text is null ? null : Array.IndexOf(tokens, text) is >= 0 and var i ? i : null;
        int? Role(string field)
        {
            if (config is not { } c || TokenString(c, field, configOrigin) is not { } text) return null;
            return Find(text) ?? throw new ModelFormatException($"{configOrigin}: field '{field}' is '{text}', which is not a token of {origin}");
        }

        var (prefix, suffix) = ReadPostProcessor(root, origin, Find);
        return new TokenizerVocabulary
        {
            Tokens = tokens,
            Kinds = kinds,
            Merges = ReadMerges(model, origin),
            IgnoreMerges = OptBool(model, "ignore_merges") ?? false,
            PreTokenizer = "glm4",
            SequencePrefix = prefix,
            SequenceSuffix = suffix,
            ChatTemplate = config is { } conf ? ChatTemplate(conf, configOrigin) : null,
            SpecialIds = new SpecialTokenIds
            {
                Bos = Role("bos_token"),
                Eos = Role("eos_token"),
                Pad = Role("pad_token"),
                Unk = Role("unk_token") ?? Find(OptString(model, "unk_token")),
                // GLM ends a turn by emitting the next role header; llama.cpp's converter records them the same way.
                Eot = Find("<|user|>"),
                Eom = Find("<|observation|>"),
            },
        };
    }

    private static JsonDocument ParseJson(string json, string origin) => Formats.JsonText.ParseObject(json, origin);

    private static void CheckModelType(JsonElement model, string origin)
    {
        string? type = OptString(model, "type");
        if (type is null && model.TryGetProperty("merges", out _)) return; // untagged BPE, as older files write it
        if (type != "BPE")
            throw new UnsupportedModelException($"{origin}: field 'model.type' is '{type ?? "(missing)"}'; GlmSharp supports byte-level BPE tokenizers only");
    }

    private static void CheckNormalizer(JsonElement root, string origin)
    {
        if (root.TryGetProperty("normalizer", out var n) && n.ValueKind != JsonValueKind.Null)
            throw new UnsupportedModelException($"{origin}: field 'normalizer' is {Type(n)}; GLM tokenizers have none and GlmSharp does not apply one");
    }

    private static void CheckPreTokenizer(JsonElement root, string origin)
    {
        const string field = "pre_tokenizer";
        var pre = Child(root, field, origin) ?? throw new UnsupportedModelException($"{origin}: field '{field}' is missing; expected the GLM-4 Split regex followed by ByteLevel");
        var steps = OptString(pre, "type") == "Sequence" && pre.TryGetProperty("pretokenizers", out var list) && list.ValueKind == JsonValueKind.Array
            ? list.EnumerateArray().ToArray()
            : [pre];
        bool ok = steps.Length == 2
            && OptString(steps[0], "type") == "Split"
            && steps[0].TryGetProperty("pattern", out var pattern) && pattern.ValueKind == JsonValueKind.Object
            && OptString(pattern, "Regex") is { } regex && Glm4PreTokenizer.IsSupportedPattern(regex)
            && (OptString(steps[0], "behavior") ?? "Isolated") == "Isolated" && OptBool(steps[0], "invert") != true
            && OptString(steps[1], "type") == "ByteLevel" && OptBool(steps[1], "use_regex") == false && OptBool(steps[1], "add_prefix_space") != true;
        if (!ok)
            throw new UnsupportedModelException(
                $"{origin}: field '{field}' is {Type(pre)} {Truncate(pre.GetRawText())}; GlmSharp supports Sequence[Split(GLM-4 regex, Isolated), ByteLevel(use_regex=false)]");
    }

    private static void CheckDecoder(JsonElement root, string origin)
    {
        if (root.TryGetProperty("decoder", out var d) && d.ValueKind != JsonValueKind.Null && OptString(d, "type") != "ByteLevel")
            throw new UnsupportedModelException($"{origin}: field 'decoder' is {Type(d)}; GlmSharp decodes byte-level (ByteLevel) only");
    }

    private static (string, string)[] ReadMerges(JsonElement model, string origin)
    {
        if (!model.TryGetProperty("merges", out var merges) || merges.ValueKind != JsonValueKind.Array)
            throw new ModelFormatException($"{origin}: required field 'model.merges' (a list of merges) is missing");
        var result = new (string, string)[merges.GetArrayLength()];
        int i = 0;
        foreach (var m in merges.EnumerateArray())
        {
            if (m.ValueKind == JsonValueKind.String)
            {
                var parts = m.GetString()!.Split(' ');
                if (parts.Length != 2 || parts[0].Length == 0 || parts[1].Length == 0)
                    throw new ModelFormatException($"{origin}: field 'model.merges'[{i}] is {m.GetRawText()}, expected \"left right\"");
                result[i] = (parts[0], parts[1]);
            }
            else if (m.ValueKind == JsonValueKind.Array && m.GetArrayLength() == 2
                     && m[0].ValueKind == JsonValueKind.String && m[1].ValueKind == JsonValueKind.String)
            {
                result[i] = (m[0].GetString()!, m[1].GetString()!);
            }
            else throw new ModelFormatException($"{origin}: field 'model.merges'[{i}] is {m.GetRawText()}, expected \"left right\" or [\"left\", \"right\"]");
            i++;
        }
        return result;
    }

    /// <summary>The special tokens a TemplateProcessing post-processor puts before and after a single sequence.</summary>
    private static (int[] Prefix, int[] Suffix) ReadPostProcessor(JsonElement root, string origin, Func<string?, int?> find)
    {
        if (!root.TryGetProperty("post_processor", out var post) || post.ValueKind != JsonValueKind.Object) return ([], []);
        var template = OptString(post, "type") == "TemplateProcessing" ? post
            : post.TryGetProperty("processors", out var list) && list.ValueKind == JsonValueKind.Array
                ? list.EnumerateArray().FirstOrDefault(p => OptString(p, "type") == "TemplateProcessing")
                : default;
        if (template.ValueKind != JsonValueKind.Object || !template.TryGetProperty("single", out var single) || single.ValueKind != JsonValueKind.Array)
            return ([], []);

        var prefix = new List<int>();
        var suffix = new List<int>();
        bool seenSequence = false;
        foreach (var piece in single.EnumerateArray())
        {
            if (piece.ValueKind == JsonValueKind.Object && piece.TryGetProperty("Sequence", out _)) { seenSequence = true; continue; }
            if (piece.ValueKind != JsonValueKind.Object || !piece.TryGetProperty("SpecialToken", out var special) || OptString(special, "id") is not { } name)
                throw new ModelFormatException($"{origin}: field 'post_processor.single' has {piece.GetRawText()}, expected a Sequence or a SpecialToken");
            var ids = template.TryGetProperty("special_tokens", out var map) && map.ValueKind == JsonValueKind.Object
                      && map.TryGetProperty(name, out var entry) && entry.ValueKind == JsonValueKind.Object
                      && entry.TryGetProperty("ids", out var idList) && idList.ValueKind == JsonValueKind.Array
                ? idList.EnumerateArray().Select(x => TokenId(x, $"post_processor.special_tokens.{name}.ids", origin)).ToArray()
                : [find(name) ?? throw new ModelFormatException($"{origin}: field 'post_processor' adds '{name}', which is not a token")];
            (seenSequence ? suffix : prefix).AddRange(ids);
        }
        return ([.. prefix], [.. suffix]);
    }

    private static int TokenId(JsonElement value, string field, string origin) =>
        value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out int id) && id >= 0 ? id
            : throw new ModelFormatException($"{origin}: field '{field}' holds {value.GetRawText()}, expected a non-negative integer token id");

    private static string? ChatTemplate(JsonElement config, string origin)
    {
        if (!config.TryGetProperty("chat_template", out var t) || t.ValueKind == JsonValueKind.Null) return null;
        if (t.ValueKind == JsonValueKind.String) return t.GetString();
        if (t.ValueKind == JsonValueKind.Array)
        {
            var named = t.EnumerateArray().Where(x => x.ValueKind == JsonValueKind.Object).ToArray();
            var chosen = named.FirstOrDefault(x => OptString(x, "name") == "default");
            if (chosen.ValueKind != JsonValueKind.Object && named.Length > 0) chosen = named[0];
            if (chosen.ValueKind == JsonValueKind.Object && OptString(chosen, "template") is { } text) return text;
        }
        throw new ModelFormatException($"{origin}: field 'chat_template' is {Type(t)}, expected a string or a list of {{name, template}}");
    }

    /// <summary>Token fields of tokenizer_config.json are a string or an AddedToken object with "content".</summary>
    private static string? TokenString(JsonElement config, string field, string origin)
    {
        if (!config.TryGetProperty(field, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind == JsonValueKind.String) return v.GetString();
        if (v.ValueKind == JsonValueKind.Object && OptString(v, "content") is { } content) return content;
        throw new ModelFormatException($"{origin}: field '{field}' is {v.GetRawText()}, expected a token string");
    }

    private static JsonElement? Child(JsonElement parent, string name, string origin, string? path = null, JsonValueKind kind = JsonValueKind.Object)
    {
        if (!parent.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind != kind) throw new ModelFormatException($"{origin}: field '{path ?? name}' must be a JSON {kind}, found {v.ValueKind}");
        return v;
    }

    private static string? OptString(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static bool? OptBool(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind is JsonValueKind.True or JsonValueKind.False
            ? v.GetBoolean() : null;

    private static string RequiredString(JsonElement e, string name, string origin, string path) =>
        OptString(e, name) ?? throw new ModelFormatException($"{origin}: required field '{path}' (a string) is missing");

    private static int RequiredInt(JsonElement e, string name, string origin, string path) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int i) && i >= 0
            ? i : throw new ModelFormatException($"{origin}: required field '{path}' (a non-negative integer) is missing or invalid");

    private static string Type(JsonElement e) => OptString(e, "type") is { } t ? $"'{t}'" : e.ValueKind.ToString();

    private static string Truncate(string s) => s.Length <= 200 ? s : s[..200] + "…";
}
