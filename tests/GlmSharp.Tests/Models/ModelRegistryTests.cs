using GlmSharp.Errors;
using GlmSharp.Models;
using GlmSharp.Models.Architectures;

namespace GlmSharp.Tests.Models;

/// <summary>One registry finds each architecture by every Hugging Face model_type it reads and by its GGUF name.</summary>
public sealed class ModelRegistryTests
{
    [Theory]
    [InlineData("glm", typeof(Glm))]
    [InlineData("chatglm", typeof(Glm))]
    [InlineData("glm4", typeof(Glm4))]
    [InlineData("glm4v", typeof(Glm4v))]
    [InlineData("glm4v_moe", typeof(Glm4vMoe))]
    [InlineData("glm_ocr", typeof(Glm4v))]
    [InlineData("glm4_moe_lite", typeof(Glm4MoeLite))]
    public void A_Model_Type_Finds_Its_Architecture(string modelType, Type expected) =>
        Assert.IsType(expected, ModelRegistry.ByModelType(modelType, "config.json"));

    [Theory]
    [InlineData("chatglm", typeof(Glm))]
    [InlineData("glm4", typeof(Glm4))]
    [InlineData("deepseek2", typeof(Glm4MoeLite))]
    public void A_Gguf_Architecture_Finds_Its_Architecture(string name, Type expected) =>
        Assert.IsType(expected, ModelRegistry.ByGgufArchitecture(name, "model.gguf"));

    [Fact]
    public void Every_Architecture_Answers_To_Its_Own_Model_Type_First_And_No_Two_Share_A_Name()
    {
        foreach (var architecture in ModelRegistry.Architectures) Assert.Equal(architecture.ModelType, architecture.HfModelTypes[0]);
        var modelTypes = ModelRegistry.Architectures.SelectMany(a => a.HfModelTypes).ToList();
        Assert.Equal(modelTypes.Count, modelTypes.Distinct().Count());
        // glm4v's and glm4v_moe's text models are glm4 and glm4moe GGUFs to llama.cpp; such files load as Glm4 and
        // Glm4Moe, which come first.
        var ggufNames = ModelRegistry.Architectures.Where(a => a is not (Glm4v or Glm4vMoe)).Select(a => a.GgufArchitecture).ToList();
        Assert.Equal(ggufNames.Count, ggufNames.Distinct().Count());
        Assert.IsType<Glm4>(ModelRegistry.ByGgufArchitecture(new Glm4v().GgufArchitecture, "model.gguf"));
        Assert.IsType<Glm4Moe>(ModelRegistry.ByGgufArchitecture(new Glm4vMoe().GgufArchitecture, "model.gguf"));
    }

    [Fact]
    public void An_Unknown_Model_Type_Is_Refused_Naming_The_File_And_The_Supported_Ones()
    {
        var error = Assert.Throws<UnsupportedModelException>(() => ModelRegistry.ByModelType("glm_image", "/m/config.json"));
        Assert.Equal("/m/config.json: model_type 'glm_image' is not supported (supported: glm, chatglm, glm4, glm4v, glm_ocr, glm4_moe, glm4v_moe, glm4_moe_lite, glm_moe_dsa)", error.Message);
    }
}
