using GlmSharp.Configs;
using GlmSharp.Errors;
using GlmSharp.Planner.Models;

namespace GlmSharp.Planner.Tests;

public class ConfigTests
{
    [Fact]
    public void Glm52_IndexShare_Schedule_Indexes_21_Of_78_Layers()
    {
        var shape = ModelCatalog.Load("glm-5.2");
        var cfg = Assert.IsType<GlmMoeDsaConfig>(shape.Config);
        Assert.Equal(21, cfg.Indexer.FullLayerCount);
        Assert.True(cfg.Indexer.FullLayers[0] && cfg.Indexer.FullLayers[6] && !cfg.Indexer.FullLayers[3]);
        Assert.Equal(78, ModelCatalog.Load("glm-5").IndexerLayers);
    }

    [Fact]
    public void Glm47_Parses_As_Glm4Moe_With_Moe_Fields()
    {
        var cfg = Assert.IsType<Glm4MoeConfig>(ModelCatalog.Load("glm-4.7").Config);
        Assert.Equal((160, 1, 8, 1536, 3), (cfg.Moe.RoutedExperts, cfg.Moe.SharedExperts, cfg.Moe.ExpertsPerToken, cfg.Moe.ExpertIntermediateSize, cfg.Moe.FirstDenseLayers));
        Assert.Equal(2.5, cfg.Moe.RoutedScalingFactor);
        Assert.True(cfg.UseQkNorm);
        Assert.Equal(1, cfg.NextNLayers);
    }

    [Fact]
    public void Qwen3Moe_Mlp_Only_Layers_Are_Dense()
    {
        var j = ConfigJson.Parse("""{"model_type":"qwen3_moe","num_hidden_layers":4,"mlp_only_layers":[1],"decoder_sparse_step":1}""", "t.json");
        var cfg = Assert.IsType<Qwen3MoeConfig>(HfConfigLoader.Parse(j));
        Assert.Equal(new[] { true, false, true, true }, cfg.SparseLayers);
    }

    [Fact]
    public void Indexer_Types_Of_Wrong_Length_Names_The_Field()
    {
        var j = ConfigJson.Parse("""{"model_type":"glm_moe_dsa","num_hidden_layers":3,"indexer_types":["full","shared"]}""", "c.json");
        var e = Assert.Throws<ModelFormatException>(() => HfConfigLoader.Parse(j));
        Assert.Contains("indexer_types", e.Message);
        Assert.Contains("c.json", e.Message);
    }

    [Fact]
    public void Mla_Config_Keeps_Explicit_Null_Q_Lora_Rank()
    {
        var j = ConfigJson.Parse("""{"model_type":"deepseek_v3","q_lora_rank":null}""", "t.json");
        Assert.Null(Assert.IsType<MlaMoeConfig>(HfConfigLoader.Parse(j)).Mla.QLoraRank);
        var d = ConfigJson.Parse("""{"model_type":"deepseek_v3"}""", "t.json");
        Assert.Equal(1536, Assert.IsType<MlaMoeConfig>(HfConfigLoader.Parse(d)).Mla.QLoraRank);
    }
}
