using System.Text;
using GlmSharp.Configs;
using GlmSharp.Errors;
using GlmSharp.Formats.Safetensors;
using GlmSharp.Models;
using GlmSharp.Tensors;
using GlmSharp.Tests.Support;

namespace GlmSharp.Tests.Models;

/// <summary>
/// The root causes a fuzzer found (issue 11), each as the smallest file that showed it: every one must now end in a
/// <see cref="ModelFormatException"/> that names the file and the key, never another exception or a dead process.
/// </summary>
public sealed class HostileInputTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private static readonly TinyGlmSpec Spec = new("glm4", 64, 32, 1, 2, 1, 16, 64, 0.5, Bias: true, Tied: false);

    public void Dispose() => _dir.Dispose();

    private string HfWithConfig(string from, string to)
    {
        string folder = new RandomGlmCheckpoint(Spec, seed: 1).WriteHuggingFace(_dir.File("hf"));
        string path = Path.Combine(folder, "config.json");
        string text = File.ReadAllText(path);
        Assert.Contains(from, text);
        File.WriteAllText(path, text.Replace(from, to));
        return folder;
    }

    private static void FailsNaming(string path, params string[] parts)
    {
        var e = Assert.Throws<ModelFormatException>(() => ModelLoader.Load(path));
        foreach (var part in parts) Assert.Contains(part, e.Message);
    }

    [Theory]
    [InlineData("1E+300", "rotary fraction of 1E+300")]  // reached a stackalloc in the RoPE kernel: a stack overflow
    [InlineData("0", "rotary fraction of 0")]
    [InlineData("0.3125", "5 rotary dimensions")]      // odd
    [InlineData("2", "rotary fraction of 2")]          // more than head_dim
    public void A_Rotary_Fraction_That_Gives_No_Valid_Rotary_Width_Is_Refused(string factor, string message) =>
        FailsNaming(HfWithConfig("\"partial_rotary_factor\":0.5", $"\"partial_rotary_factor\":{factor}"), "config.json", "partial_rotary_factor", message);

    [Theory]
    [InlineData(-1)]
    [InlineData(2000000000)]
    public void A_Layer_Count_Out_Of_Range_Is_Refused_Before_Layers_Are_Allocated(int layers) =>
        FailsNaming(HfWithConfig("\"num_hidden_layers\":1", $"\"num_hidden_layers\":{layers}"), "config.json", $"num_hidden_layers {layers} is outside 1..1024");

    /// <summary>Fuzzer finding (config #3435, seed 1): a base of 1 passed the config check and failed in the RoPE table.</summary>
    [Theory]
    [InlineData("1")]
    [InlineData("0.5")]
    public void A_Rope_Base_Of_One_Or_Less_Is_Refused(string theta) =>
        FailsNaming(HfWithConfig("\"rope_theta\":10000", $"\"rope_theta\":{theta}"), "config.json", "rope_theta gives a RoPE base of", "greater than 1");

    [Fact]
    public void Zero_Heads_Are_Refused_Instead_Of_Dividing_By_Zero() =>
        FailsNaming(HfWithConfig("\"num_attention_heads\":2", "\"num_attention_heads\":0"), "num_attention_heads 0 is outside");

    [Theory]
    [InlineData("rope.dimension_count", 0u, "glm4.rope.dimension_count gives a rotary fraction of 0")]
    [InlineData("rope.dimension_count", 7u, "7 rotary dimensions")]
    [InlineData("rope.dimension_count", 4000000000u, "glm4.rope.dimension_count")]
    [InlineData("attention.key_length", 0u, "glm4.attention.key_length 0 is outside")]
    [InlineData("block_count", 4000000000u, "glm4.block_count")]
    public void The_Same_Values_Under_Gguf_Keys_Are_Refused(string key, uint value, string message)
    {
        string valid = new RandomGlmCheckpoint(Spec, seed: 1).WriteGguf(_dir.File("valid.gguf"), GgmlType.F32);
        string bad = GgufRewrite.WithMetadata(valid, _dir.File("bad.gguf"), new Dictionary<string, object?> { [$"glm4.{key}"] = value });
        var e = Assert.ThrowsAny<GlmException>(() => ModelLoader.Load(bad));
        Assert.Contains("bad.gguf", e.Message);
        Assert.Contains(message, e.Message);
    }

    public static TheoryData<string, byte[]> BadText() => new()
    {
        { "config.json", Encoding.UTF8.GetBytes("{\"model_type\": \"glm4\", \"name\": \"\\ud800\"}") },
        { "config.json", [.. "{\"model_type\": \"glm4\", \"na"u8, 0xFF, .. "me\": 1}"u8] },
        { "generation_config.json", Encoding.UTF8.GetBytes("{\"temperature\": 0.5, \"note\": \"\\udfff\"}") },
        { "tokenizer.json", Encoding.UTF8.GetBytes("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"\\ud800x\": 0}}}") },
        { "tokenizer_config.json", Encoding.UTF8.GetBytes("{\"eos_token\": \"<\\udc00>\"}") },
    };

    [Theory]
    [MemberData(nameof(BadText))]
    public void Invalid_Unicode_In_A_Json_File_Names_The_File(string file, byte[] content)
    {
        var (folder, _, _) = TinyChatModel.Write(_dir.File("chat"));
        File.WriteAllBytes(Path.Combine(folder, file), content);
        var e = Assert.ThrowsAny<GlmException>(() => ModelLoader.Load(folder));
        Assert.Contains(file, e.Message);
        Assert.Contains("not valid Unicode", e.Message);
    }

    [Fact]
    public void Invalid_Unicode_In_A_Safetensors_Header_Names_The_File()
    {
        string path = _dir.File("bad.safetensors");
        byte[] header = [.. "{\"t\\ud800\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}}"u8];
        File.WriteAllBytes(path, [.. BitConverter.GetBytes((ulong)header.Length), .. header, 0, 0, 0, 0]);
        var e = Assert.Throws<ModelFormatException>(() => SafetensorsFile.Open(path));
        Assert.Contains("bad.safetensors", e.Message);
        Assert.Contains("not valid Unicode", e.Message);
    }

    [Theory]
    [InlineData("[1, 2]", "Array")]
    [InlineData("\"text\"", "String")]
    public void A_Safetensors_Header_That_Is_Not_An_Object_Is_Refused(string json, string kind)
    {
        string path = _dir.File("bad.safetensors");
        var header = Encoding.UTF8.GetBytes(json);
        File.WriteAllBytes(path, [.. BitConverter.GetBytes((ulong)header.Length), .. header]);
        var e = Assert.Throws<ModelFormatException>(() => SafetensorsFile.Open(path));
        Assert.Contains($"expected a JSON object, found {kind}", e.Message);
    }

    [Fact]
    public void Post_Processor_Ids_That_Are_Not_Integers_Are_Named()
    {
        var (folder, _, _) = TinyChatModel.Write(_dir.File("chat"));
        string path = Path.Combine(folder, "tokenizer.json");
        var root = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        root["post_processor"] = System.Text.Json.Nodes.JsonNode.Parse(
            "{\"type\": \"TemplateProcessing\", \"single\": [{\"SpecialToken\": {\"id\": \"[gMASK]\"}}, {\"Sequence\": {\"id\": \"A\"}}], " +
            "\"special_tokens\": {\"[gMASK]\": {\"ids\": [\"seven\"]}}}");
        File.WriteAllText(path, root.ToJsonString());
        var e = Assert.Throws<ModelFormatException>(() => ModelLoader.Load(folder));
        Assert.Contains("post_processor.special_tokens.[gMASK].ids", e.Message);
    }

    /// <summary>Fuzzer finding (tokenizer #49, seed 7): the largest id sized the token arrays, so int.MaxValue overflowed and 2³⁰ would take 8 GB.</summary>
    [Theory]
    [InlineData(int.MaxValue)]
    [InlineData(1 << 30)]
    public void A_Token_Id_Beyond_Any_Vocabulary_Is_Refused(int id)
    {
        var (folder, _, _) = TinyChatModel.Write(_dir.File("chat"));
        string path = Path.Combine(folder, "tokenizer.json");
        var root = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        root["model"]!["vocab"]!["zz-extra"] = id;
        File.WriteAllText(path, root.ToJsonString());
        var e = Assert.Throws<ModelFormatException>(() => ModelLoader.Load(folder));
        Assert.Contains("'model.vocab' maps 'zz-extra'", e.Message);
    }

    [Theory]
    [InlineData("{\"temperature\": -1}", "'temperature' is -1")]
    [InlineData("{\"top_p\": -0.0}", "'top_p' is -0")]
    [InlineData("{\"top_k\": -3}", "'top_k' is -3")]
    [InlineData("{\"max_new_tokens\": 0}", "'max_new_tokens' is 0")]
    public void Sampling_Values_Out_Of_Range_Are_Refused_At_Load(string json, string message)
    {
        var (folder, _, _) = TinyChatModel.Write(_dir.File("chat"));
        File.WriteAllText(Path.Combine(folder, "generation_config.json"), json);
        var e = Assert.Throws<ModelFormatException>(() => ModelLoader.Load(folder));
        Assert.Contains("generation_config.json", e.Message);
        Assert.Contains(message, e.Message);
    }

    /// <summary>n_group sizes a stack buffer of the CPU router; the other expert counts size a step's buffers.</summary>
    [Theory]
    [InlineData("\"n_group\":1", "\"n_group\":100000000", "n_group 100000000 is outside")]
    [InlineData("\"n_routed_experts\":8", "\"n_routed_experts\":0", "n_routed_experts 0 is outside")]
    [InlineData("\"num_experts_per_tok\":2", "\"num_experts_per_tok\":9", "num_experts_per_tok 9 is outside 1..8")]
    [InlineData("\"n_group\":1", "\"n_group\":3", "cannot supply")]
    [InlineData("\"first_k_dense_replace\":1", "\"first_k_dense_replace\":-1", "first_k_dense_replace -1 is outside")]
    [InlineData("\"routed_scaling_factor\":1", "\"routed_scaling_factor\":-2.5", "routed_scaling_factor -2.5")]
    public void Expert_Counts_Out_Of_Range_Are_Refused(string from, string to, string message)
    {
        var spec = new TinyMoeSpec(160, 64, 3, 4, 2, 16, 96, Experts: 8, ExpertsPerToken: 2, ExpertWidth: 32, SharedExperts: 1, FirstDense: 1);
        string folder = new RandomMoeCheckpoint(spec, seed: 1).WriteHuggingFace(_dir.File("moe"));
        string path = Path.Combine(folder, "config.json");
        string text = File.ReadAllText(path);
        Assert.Contains(from, text);
        File.WriteAllText(path, text.Replace(from, to));
        FailsNaming(folder, "config.json", message);
    }

    [Fact]
    public void Limits_Allow_The_Largest_Glm_Shapes()
    {
        var glm5Like = DecoderFieldsForTest(vocab: 154880, hidden: 6144, layers: 78, heads: 64, kvHeads: 64, headDim: 256, intermediate: 12288, context: 202752);
        ModelConfigLimits.Check(glm5Like, "glm-5/config.json");
    }

    private static ModelConfig DecoderFieldsForTest(int vocab, int hidden, int layers, int heads, int kvHeads, int headDim, int intermediate, int context) =>
        HfConfigLoader.Parse(ConfigJson.Parse(
            $"{{\"model_type\":\"glm4\",\"vocab_size\":{vocab},\"hidden_size\":{hidden},\"num_hidden_layers\":{layers},\"num_attention_heads\":{heads}," +
            $"\"num_key_value_heads\":{kvHeads},\"head_dim\":{headDim},\"intermediate_size\":{intermediate},\"max_position_embeddings\":{context}}}", "config.json"));
}
