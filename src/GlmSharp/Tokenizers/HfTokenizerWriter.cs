using System.Text.Encodings.Web;
using System.Text.Json;

namespace GlmSharp.Tokenizers;

/// <summary>Writes a vocabulary as Hugging Face <c>tokenizer.json</c> + <c>tokenizer_config.json</c> in the layout GLM
/// checkpoints use (BPE model, GLM-4 Split regex + ByteLevel pre-tokenizer, ByteLevel decoder).</summary>
public static class HfTokenizerWriter
{
    private static readonly JsonWriterOptions Options = new() { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static void WriteDirectory(TokenizerVocabulary vocabulary, string directory)
    {
        Directory.CreateDirectory(directory);
        File.WriteAllBytes(Path.Combine(directory, HfTokenizerLoader.TokenizerFile), TokenizerJson(vocabulary));
        File.WriteAllBytes(Path.Combine(directory, HfTokenizerLoader.ConfigFile), TokenizerConfigJson(vocabulary));
    }

    public static byte[] TokenizerJson(TokenizerVocabulary v)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, Options))
        {
            w.WriteStartObject();
            w.WriteString("version", "1.0");
            w.WriteNull("truncation");
            w.WriteNull("padding");
            w.WriteStartArray("added_tokens");
            for (int id = 0; id < v.Tokens.Count; id++)
            {
                if (v.Kinds[id] is not (TokenKind.Control or TokenKind.UserDefined or TokenKind.Unknown)) continue;
                w.WriteStartObject();
                w.WriteNumber("id", id);
                w.WriteString("content", v.Tokens[id]);
                w.WriteBoolean("single_word", false);
                w.WriteBoolean("lstrip", false);
                w.WriteBoolean("rstrip", false);
                w.WriteBoolean("normalized", false);
                w.WriteBoolean("special", v.Kinds[id] != TokenKind.UserDefined);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteNull("normalizer");
            w.WriteStartObject("pre_tokenizer");
            w.WriteString("type", "Sequence");
            w.WriteStartArray("pretokenizers");
            w.WriteStartObject();
            w.WriteString("type", "Split");
            w.WriteStartObject("pattern");
            w.WriteString("Regex", Glm4PreTokenizer.Pattern);
            w.WriteEndObject();
            w.WriteString("behavior", "Isolated");
            w.WriteBoolean("invert", false);
            w.WriteEndObject();
            w.WriteStartObject();
            w.WriteString("type", "ByteLevel");
            w.WriteBoolean("add_prefix_space", false);
            w.WriteBoolean("trim_offsets", true);
            w.WriteBoolean("use_regex", false);
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteEndObject();
            WritePostProcessor(w, v);
            w.WriteStartObject("decoder");
            w.WriteString("type", "ByteLevel");
            w.WriteBoolean("add_prefix_space", true);
            w.WriteBoolean("trim_offsets", true);
            w.WriteBoolean("use_regex", true);
            w.WriteEndObject();
            w.WriteStartObject("model");
            w.WriteString("type", "BPE");
            w.WriteNull("dropout");
            w.WriteNull("unk_token");
            w.WriteNull("continuing_subword_prefix");
            w.WriteNull("end_of_word_suffix");
            w.WriteBoolean("fuse_unk", false);
            w.WriteBoolean("byte_fallback", false);
            w.WriteBoolean("ignore_merges", v.IgnoreMerges);
            w.WriteStartObject("vocab");
            for (int id = 0; id < v.Tokens.Count; id++)
                if (v.Kinds[id] is TokenKind.Normal or TokenKind.Byte) w.WriteNumber(v.Tokens[id], id);
            w.WriteEndObject();
            w.WriteStartArray("merges");
            foreach (var (left, right) in v.Merges)
            {
                w.WriteStartArray();
                w.WriteStringValue(left);
                w.WriteStringValue(right);
                w.WriteEndArray();
            }
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return stream.ToArray();
    }

    public static byte[] TokenizerConfigJson(TokenizerVocabulary v)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, Options))
        {
            w.WriteStartObject();
            w.WriteString("tokenizer_class", "PreTrainedTokenizerFast");
            w.WriteBoolean("clean_up_tokenization_spaces", false);
            foreach (var (field, id) in new[] { ("bos_token", v.SpecialIds.Bos), ("eos_token", v.SpecialIds.Eos), ("pad_token", v.SpecialIds.Pad), ("unk_token", v.SpecialIds.Unk) })
                if (id is int i) w.WriteString(field, v.Tokens[i]);
            if (v.ChatTemplate is { } template) w.WriteString("chat_template", template);
            w.WriteEndObject();
        }
        return stream.ToArray();
    }

    private static void WritePostProcessor(Utf8JsonWriter w, TokenizerVocabulary v)
    {
        if (v.SequencePrefix.Count == 0 && v.SequenceSuffix.Count == 0) { w.WriteNull("post_processor"); return; }
        w.WriteStartObject("post_processor");
        w.WriteString("type", "TemplateProcessing");
        w.WriteStartArray("single");
        foreach (int id in v.SequencePrefix) WriteSpecial(w, v.Tokens[id]);
        w.WriteStartObject();
        w.WriteStartObject("Sequence");
        w.WriteString("id", "A");
        w.WriteNumber("type_id", 0);
        w.WriteEndObject();
        w.WriteEndObject();
        foreach (int id in v.SequenceSuffix) WriteSpecial(w, v.Tokens[id]);
        w.WriteEndArray();
        w.WriteStartObject("special_tokens");
        foreach (int id in v.SequencePrefix.Concat(v.SequenceSuffix).Distinct())
        {
            w.WriteStartObject(v.Tokens[id]);
            w.WriteString("id", v.Tokens[id]);
            w.WriteStartArray("ids");
            w.WriteNumberValue(id);
            w.WriteEndArray();
            w.WriteStartArray("tokens");
            w.WriteStringValue(v.Tokens[id]);
            w.WriteEndArray();
            w.WriteEndObject();
        }
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static void WriteSpecial(Utf8JsonWriter w, string token)
    {
        w.WriteStartObject();
        w.WriteStartObject("SpecialToken");
        w.WriteString("id", token);
        w.WriteNumber("type_id", 0);
        w.WriteEndObject();
        w.WriteEndObject();
    }
}
