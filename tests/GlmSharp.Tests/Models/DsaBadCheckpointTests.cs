using GlmSharp.Errors;
using GlmSharp.Models;
using GlmSharp.Tensors;
using GlmSharp.Tests.Support;

namespace GlmSharp.Tests.Models;

/// <summary>glm-dsa / glm_moe_dsa files whose indexer keys or tensors are missing or disagree fail at load, naming the key or tensor.</summary>
public sealed class DsaBadCheckpointTests : IDisposable
{
    private static readonly TinyMlaSpec Spec = new(64, 32, 2, 4, QLora: 16, KvLora: 32, Nope: 8, Rope: 8, ValueDim: 16, DenseIntermediate: 48,
        Experts: 4, ExpertsPerToken: 2, ExpertWidth: 16, SharedExperts: 1, FirstDense: 1, Dsa: new(Heads: 2, TopK: 4, "FS", HeadDim: 16));

    private readonly TempDirectory _dir = new();
    private readonly RandomMlaCheckpoint _checkpoint = new(Spec, seed: 2);

    public void Dispose() => _dir.Dispose();

    private string GgufWith(Dictionary<string, object?> changes) =>
        GgufRewrite.WithMetadata(_checkpoint.WriteGguf(_dir.File("good.gguf"), GgmlType.F32), _dir.File("bad.gguf"), changes);

    [Fact]
    public void The_Good_File_And_Folder_Load_With_One_Indexer_Stream_On_The_Full_Layer_Only()
    {
        using var loaded = ModelLoader.Load(_checkpoint.WriteGguf(_dir.File("good.gguf"), GgmlType.F32));
        Assert.Equal([2, 1], loaded.Model.CacheLayout.Select(layer => layer.Streams.Count));
        using (ModelLoader.Load(_checkpoint.WriteHuggingFace(_dir.File("hf")))) { }
    }

    [Fact]
    public void Missing_Top_K_Is_Named()
    {
        var e = Assert.Throws<ModelFormatException>(() => ModelLoader.Load(GgufWith(new() { ["glm-dsa.attention.indexer.top_k"] = null })));
        Assert.Contains("glm-dsa.attention.indexer.top_k", e.Message);
        Assert.Contains("bad.gguf", e.Message);
    }

    [Fact]
    public void Indexer_Types_Shorter_Than_The_Layers_Are_Named()
    {
        var e = Assert.Throws<ModelFormatException>(() => ModelLoader.Load(GgufWith(new() { ["glm-dsa.attention.indexer.types"] = new uint[] { 1 } })));
        Assert.Contains("glm-dsa.attention.indexer.types has 1 entries for 2 layers", e.Message);
    }

    [Fact]
    public void Indexer_Type_Other_Than_Full_Or_Shared_Is_Named()
    {
        var e = Assert.Throws<ModelFormatException>(() => ModelLoader.Load(GgufWith(new() { ["glm-dsa.attention.indexer.types"] = new uint[] { 1, 2 } })));
        Assert.Contains("glm-dsa.attention.indexer.types holds 2", e.Message);
    }

    [Fact]
    public void A_Full_Layer_Without_Indexer_Tensors_Names_The_Missing_Tensor()
    {
        var e = Assert.Throws<ModelFormatException>(() => ModelLoader.Load(GgufWith(new() { ["glm-dsa.attention.indexer.types"] = new uint[] { 1, 1 } })));
        Assert.Contains("'blk.1.indexer.attn_q_b.weight' is missing", e.Message);
    }

    [Fact]
    public void A_Shared_First_Layer_Is_Refused()
    {
        var e = Assert.Throws<ModelFormatException>(() => ModelLoader.Load(GgufWith(new() { ["glm-dsa.attention.indexer.types"] = new uint[] { 0, 0 } })));
        Assert.Contains("layer 0 is a shared indexer layer", e.Message);
    }

    [Fact]
    public void Indexer_Key_Length_That_Disagrees_With_The_Tensors_Names_The_Tensor()
    {
        var e = Assert.Throws<ModelFormatException>(() => ModelLoader.Load(GgufWith(new() { ["glm-dsa.attention.indexer.key_length"] = 32u })));
        Assert.Contains("indexer", e.Message);
        Assert.Contains("expected", e.Message);
    }

    [Fact]
    public void Indexer_Key_Length_Shorter_Than_The_Rope_Part_Is_Named()
    {
        var e = Assert.Throws<ModelFormatException>(() => ModelLoader.Load(GgufWith(new() { ["glm-dsa.attention.indexer.key_length"] = 4u })));
        Assert.Contains("index_head_dim 4 must hold the rope part (qk_rope_head_dim 8)", e.Message);
    }

    [Fact]
    public void Split_Half_Indexer_Rope_In_A_Config_Is_Refused_Naming_The_Field()
    {
        string folder = _checkpoint.WriteHuggingFace(_dir.File("hf"));
        string config = Path.Combine(folder, "config.json");
        File.WriteAllText(config, File.ReadAllText(config).Replace("\"indexer_rope_interleave\":true", "\"indexer_rope_interleave\":false"));
        var e = Assert.Throws<UnsupportedModelException>(() => ModelLoader.Load(folder));
        Assert.Contains("indexer_rope_interleave", e.Message);
    }

    [Fact]
    public void The_Cli_Reports_A_Missing_Indexer_Tensor_In_One_Line_With_Exit_Code_1()
    {
        var result = GlmCli.Run("generate", "--model", GgufWith(new() { ["glm-dsa.attention.indexer.types"] = new uint[] { 1, 1 } }), "--token-ids", "1,2");
        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith("error: ", result.Stderr);
        Assert.Contains("blk.1.indexer.attn_q_b.weight", result.Stderr);
        Assert.Single(result.Stderr.Trim().Split('\n'));
    }
}
