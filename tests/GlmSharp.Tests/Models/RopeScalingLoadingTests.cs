using GlmSharp.Configs;
using GlmSharp.Errors;
using GlmSharp.Models;
using GlmSharp.Tests.Support;

namespace GlmSharp.Tests.Models;

/// <summary>How a checkpoint's RoPE scaling reaches the model: read from config.json and GGUF, or refused by name.</summary>
public sealed class RopeScalingLoadingTests
{
    private const string Glm4Fields = """
        "model_type": "glm4", "hidden_size": 64, "num_attention_heads": 4, "num_hidden_layers": 1, "max_position_embeddings": 131072
        """;

    private static ModelConfig ParseHf(string extra) =>
        HfConfigLoader.Parse(ConfigJson.Parse($$"""{ {{Glm4Fields}}, {{extra}} }""", "config.json"));

    [Fact]
    public void Glm4_0414_Recommended_Rope_Scaling_Is_Read_As_Yarn()
    {
        var config = ParseHf("""
            "rope_scaling": { "factor": 4.0, "original_max_position_embeddings": 32768, "type": "yarn" }
            """);
        Assert.Equal(new YarnScaling(4, 32768, 32, 1), config.RopeScaling);
    }

    [Fact]
    public void Transformers_5_Rope_Parameters_Are_Read_And_The_Original_Context_Defaults_To_Max_Positions()
    {
        var config = ParseHf("""
            "rope_parameters": { "rope_type": "yarn", "factor": 2, "beta_fast": 16, "rope_theta": 10000 }
            """);
        Assert.Equal(new YarnScaling(2, 131072, 16, 1), config.RopeScaling);
    }

    [Theory]
    [InlineData("")]
    [InlineData(""" "rope_scaling": null, """)]
    [InlineData(""" "rope_parameters": { "rope_type": "default", "rope_theta": 10000 }, """)]
    public void Default_Or_Absent_Rope_Scaling_Means_None(string field)
    {
        var config = ParseHf(field + """ "rope_theta": 10000 """);
        Assert.Null(config.RopeScaling);
    }

    [Theory]
    [InlineData(""" "rope_scaling": { "type": "linear", "factor": 2 } """, "rope type 'linear' is not supported")]
    [InlineData(""" "rope_scaling": { "rope_type": "dynamic", "factor": 2 } """, "rope type 'dynamic' is not supported")]
    [InlineData(""" "rope_scaling": { "type": "yarn", "factor": 4, "mscale": 0.7 } """, "YaRN field 'mscale' is not supported")]
    public void Rope_Scaling_GlmSharp_Does_Not_Compute_Is_Refused_By_Name(string field, string message) =>
        AssertRefused<UnsupportedModelException>(field, message);

    [Theory]
    [InlineData(""" "rope_scaling": { "type": "yarn" } """, "required field 'factor'")]
    [InlineData(""" "rope_scaling": { "type": "yarn", "factor": 0.5 } """, "factor 0.5")]
    [InlineData(""" "rope_scaling": { "type": "yarn", "factor": 4, "original_max_position_embeddings": 0 } """, "original context 0")]
    public void Bad_Yarn_Fields_Name_The_Field(string field, string message) =>
        AssertRefused<ModelFormatException>(field, message);

    [Fact]
    public void Yarn_Survives_A_Gguf_Round_Trip_Under_Llama_Cpp_Keys()
    {
        var spec = new TinyGlmSpec("glm4", 160, 64, 1, 4, 2, 16, 96, 0.5, Bias: false, Tied: true, Yarn: new YarnScaling(4, 32768));
        var keys = GgufModelMetadata.FromDenseConfig(new RandomGlmCheckpoint(spec, seed: 1).HfConfig(), "glm4");
        Assert.Equal("yarn", keys["glm4.rope.scaling.type"]);
        Assert.Equal(4f, keys["glm4.rope.scaling.factor"]);
        Assert.Equal(32768u, keys["glm4.rope.scaling.original_context_length"]);
        Assert.Equal(new YarnScaling(4, 32768), Read(keys).RopeScaling);
    }

    [Fact]
    public void Mrope_Sections_Survive_A_Gguf_Round_Trip_And_Are_Refused_When_Not_Integers()
    {
        var spec = new TinyGlmSpec("glm4", 160, 64, 1, 4, 2, 16, 96, 0.5, Bias: false, Tied: true);
        var config = new RandomGlmCheckpoint(spec, seed: 1).HfConfig() with { MropeSections = [1, 1, 2, 0] };
        var keys = GgufModelMetadata.FromDenseConfig(config, "glm4");
        Assert.Equal(new[] { 1, 1, 2, 0 }, keys["glm4.rope.dimension_sections"]);
        Assert.Equal(new[] { 1, 1, 2, 0 }, Read(keys).MropeSections);
        Assert.Null(Read(GgufModelMetadata.FromDenseConfig(config with { MropeSections = null }, "glm4")).MropeSections);

        keys["glm4.rope.dimension_sections"] = new[] { 1f, 1f, 2f, 0f };
        var e = Assert.Throws<ModelFormatException>(() => Read(keys));
        Assert.Contains("tiny.gguf: metadata key 'glm4.rope.dimension_sections' must be an int32 array", e.Message);
    }

    [Theory]
    [InlineData("glm4.rope.scaling.type", "'linear' is not supported")]
    [InlineData("glm4.rope.scale_linear", "linear RoPE scaling")]
    [InlineData("glm4.rope.scaling.yarn_log_multiplier", "yarn_log_multiplier 0.5 is not supported")]
    public void Gguf_Rope_Keys_GlmSharp_Does_Not_Compute_Are_Refused_By_Name(string key, string message)
    {
        var spec = new TinyGlmSpec("glm4", 160, 64, 1, 4, 2, 16, 96, 0.5, Bias: false, Tied: true, Yarn: new YarnScaling(4, 32768));
        var keys = GgufModelMetadata.FromDenseConfig(new RandomGlmCheckpoint(spec, seed: 1).HfConfig(), "glm4");
        keys[key] = key switch
        {
            "glm4.rope.scaling.type" => "linear",
            "glm4.rope.scale_linear" => 2f,
            _ => 0.5f,
        };
        var e = Assert.Throws<UnsupportedModelException>(() => Read(keys));
        Assert.Contains("tiny.gguf", e.Message);
        Assert.Contains(message, e.Message);
    }

    private static void AssertRefused<T>(string field, string message) where T : GlmException
    {
        var e = Assert.Throws<T>(() => ParseHf(field));
        Assert.Contains("config.json:rope_scaling", e.Message);
        Assert.Contains(message, e.Message);
    }

    private static ModelConfig Read(Dictionary<string, object> keys) =>
        new GgufModelMetadata(keys, "glm4", new HashSet<string>(), "tiny.gguf").DenseConfig("glm4");
}
