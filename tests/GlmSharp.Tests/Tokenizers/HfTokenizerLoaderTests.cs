using System.Text;
using System.Text.Json.Nodes;
using GlmSharp.Errors;
using GlmSharp.Tokenizers;

namespace GlmSharp.Tests.Tokenizers;

public class HfTokenizerLoaderTests
{
    private static JsonObject TrainedJson() =>
        JsonNode.Parse(HfTokenizerWriter.TokenizerJson(TrainedVocabulary.Value))!.AsObject();

    private static TokenizerVocabulary Parse(JsonObject json, string? config = null) =>
        HfTokenizerLoader.Parse(json.ToJsonString(), "tokenizer.json", config, "tokenizer_config.json");

    [Fact]
    public void Written_Tokenizer_Json_Loads_Back_To_The_Same_Tokenization()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"glmsharp-tok-{Guid.NewGuid():N}");
        try
        {
            HfTokenizerWriter.WriteDirectory(TrainedVocabulary.Value, dir);
            var loaded = HfTokenizerLoader.LoadDirectory(dir);
            Assert.Equal(TrainedVocabulary.Value.Tokens, loaded.Tokens);
            Assert.Equal(TrainedVocabulary.Value.Kinds, loaded.Kinds);
            Assert.Equal(TrainedVocabulary.Value.Merges, loaded.Merges);
            Assert.Equal(TrainedVocabulary.Value.ChatTemplate, loaded.ChatTemplate);
            Assert.Equal(TrainedVocabulary.Value.SpecialIds, loaded.SpecialIds);
            var a = new BpeTokenizer(TrainedVocabulary.Value);
            var b = new BpeTokenizer(loaded);
            foreach (string text in TokenizerCorpus.Evaluation) Assert.Equal(a.Encode(text), b.Encode(text));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void Merges_As_Strings_And_As_Pairs_Give_The_Same_Vocabulary()
    {
        var pairs = TrainedJson();
        var strings = TrainedJson();
        var list = new JsonArray();
        foreach (var m in strings["model"]!["merges"]!.AsArray()) list.Add($"{m![0]} {m[1]}");
        strings["model"]!["merges"] = list;
        Assert.Equal(Parse(pairs).Merges, Parse(strings).Merges);
    }

    [Fact]
    public void Post_Processor_Prefix_Is_Read_And_Applied_Only_On_Request()
    {
        var json = TrainedJson();
        var v = TrainedVocabulary.Value;
        int gmask = v.Tokens.ToList().IndexOf("[gMASK]"), sop = v.Tokens.ToList().IndexOf("<sop>");
        json["post_processor"] = JsonNode.Parse("""
            {"type":"Sequence","processors":[{"type":"ByteLevel","trim_offsets":false},
             {"type":"TemplateProcessing",
              "single":[{"SpecialToken":{"id":"[gMASK]","type_id":0}},{"SpecialToken":{"id":"<sop>","type_id":0}},{"Sequence":{"id":"A","type_id":0}}],
              "special_tokens":{"[gMASK]":{"id":"[gMASK]","ids":[GMASK],"tokens":["[gMASK]"]},"<sop>":{"id":"<sop>","ids":[SOP],"tokens":["<sop>"]}}}]}
            """.Replace("GMASK", gmask.ToString()).Replace("SOP", sop.ToString()));
        var loaded = Parse(json);
        Assert.Equal([gmask, sop], loaded.SequencePrefix);
        var tok = new BpeTokenizer(loaded);
        Assert.Equal(tok.Encode("hi"), tok.Encode("hi", addSequenceTokens: true)[2..]);
        Assert.NotEqual(gmask, tok.Encode("hi")[0]);
    }

    [Fact]
    public void Tokenizer_Config_Supplies_Template_Eos_And_Added_Tokens()
    {
        var json = TrainedJson();
        int last = TrainedVocabulary.Value.Tokens.Count;
        string config = """
            {"eos_token": {"content": "<|user|>"}, "pad_token": "<|endoftext|>",
             "chat_template": [{"name": "tool_use", "template": "T"}, {"name": "default", "template": "D"}],
             "added_tokens_decoder": {"LAST": {"content": "<extra>", "special": true}}}
            """.Replace("LAST", last.ToString());
        var v = Parse(json, config);
        Assert.Equal("D", v.ChatTemplate);
        Assert.Equal("<|user|>", v.Tokens[v.SpecialIds.Eos!.Value]);
        Assert.Equal("<|endoftext|>", v.Tokens[v.SpecialIds.Pad!.Value]);
        Assert.Equal(("<extra>", TokenKind.Control), (v.Tokens[last], v.Kinds[last]));
    }

    [Fact]
    public void Bad_Json_Names_The_File()
    {
        var e = Assert.Throws<ModelFormatException>(() => HfTokenizerLoader.Parse("{\"model\": ", "ckpt/tokenizer.json"));
        Assert.Contains("ckpt/tokenizer.json", e.Message);
        Assert.Contains("not valid JSON", e.Message);
    }

    [Theory]
    [InlineData("Unigram")]
    [InlineData("WordPiece")]
    public void Unknown_Model_Type_Is_Unsupported(string type)
    {
        var json = TrainedJson();
        json["model"]!["type"] = type;
        var e = Assert.Throws<UnsupportedModelException>(() => Parse(json));
        Assert.Contains("tokenizer.json", e.Message);
        Assert.Contains("model.type", e.Message);
        Assert.Contains(type, e.Message);
    }

    [Fact]
    public void Missing_Merges_Is_A_Format_Error()
    {
        var json = TrainedJson();
        json["model"]!.AsObject().Remove("merges");
        var e = Assert.Throws<ModelFormatException>(() => Parse(json));
        Assert.Contains("model.merges", e.Message);
    }

    [Fact]
    public void Malformed_Merge_Entry_Is_A_Format_Error()
    {
        var json = TrainedJson();
        json["model"]!["merges"]!.AsArray()[3] = "onlyonetoken";
        var e = Assert.Throws<ModelFormatException>(() => Parse(json));
        Assert.Contains("model.merges'[3]", e.Message);
    }

    [Fact]
    public void Other_PreTokenizer_Regex_Is_Unsupported()
    {
        var json = TrainedJson();
        json["pre_tokenizer"]!["pretokenizers"]![0]!["pattern"]!["Regex"] = @"\s+|\w+";
        var e = Assert.Throws<UnsupportedModelException>(() => Parse(json));
        Assert.Contains("pre_tokenizer", e.Message);
    }

    [Fact]
    public void Normalizer_Is_Unsupported()
    {
        var json = TrainedJson();
        json["normalizer"] = JsonNode.Parse("""{"type":"NFC"}""");
        var e = Assert.Throws<UnsupportedModelException>(() => Parse(json));
        Assert.Contains("normalizer", e.Message);
    }

    [Fact]
    public void Config_Token_That_Is_Not_In_The_Vocabulary_Is_A_Format_Error()
    {
        var e = Assert.Throws<ModelFormatException>(() => Parse(TrainedJson(), """{"eos_token": "</s>"}"""));
        Assert.Contains("tokenizer_config.json", e.Message);
        Assert.Contains("eos_token", e.Message);
    }

    [Fact]
    public void Missing_File_Is_Reported_With_Its_Path()
    {
        string path = Path.Combine(Path.GetTempPath(), $"missing-{Guid.NewGuid():N}", "tokenizer.json");
        var e = Assert.Throws<ModelFormatException>(() => HfTokenizerLoader.Load(path));
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void Utf8_Written_Json_Keeps_Byte_Level_Token_Texts()
    {
        string text = Encoding.UTF8.GetString(HfTokenizerWriter.TokenizerJson(TrainedVocabulary.Value));
        Assert.Contains("\"Ġ\"", text);
    }
}
