using GlmSharp.Errors;
using GlmSharp.Models;
using GlmSharp.Tensors;
using GlmSharp.Tests.Support;

namespace GlmSharp.Tests.Models;

/// <summary>deepseek2 / glm4_moe_lite files whose MLA keys or tensors disagree fail at load, naming the key or tensor.</summary>
public sealed class MlaBadCheckpointTests : IDisposable
{
    private static readonly TinyMlaSpec Spec = new(64, 32, 2, 4, QLora: 16, KvLora: 32, Nope: 8, Rope: 8, ValueDim: 16, DenseIntermediate: 48,
        Experts: 4, ExpertsPerToken: 2, ExpertWidth: 16, SharedExperts: 1, FirstDense: 1);

    private readonly TempDirectory _dir = new();
    private readonly RandomMlaCheckpoint _checkpoint = new(Spec, seed: 2);

    public void Dispose() => _dir.Dispose();

    private string GgufWith(Dictionary<string, object?> changes, MlaGgufLayout layout = MlaGgufLayout.SplitKeyValue)
    {
        string good = _checkpoint.WriteGguf(_dir.File("good.gguf"), GgmlType.F32, layout);
        return GgufRewrite.WithMetadata(good, _dir.File("bad.gguf"), changes);
    }

    [Fact]
    public void The_Good_Files_Load()
    {
        using (ModelLoader.Load(_checkpoint.WriteGguf(_dir.File("split.gguf"), GgmlType.F32))) { }
        using (ModelLoader.Load(_checkpoint.WriteGguf(_dir.File("fused.gguf"), GgmlType.F32, MlaGgufLayout.FusedKeyValue))) { }
    }

    [Fact]
    public void Missing_Kv_Lora_Rank_Is_Named()
    {
        var e = Assert.Throws<ModelFormatException>(() => ModelLoader.Load(GgufWith(new() { ["deepseek2.attention.kv_lora_rank"] = null })));
        Assert.Contains("deepseek2.attention.kv_lora_rank", e.Message);
        Assert.Contains("bad.gguf", e.Message);
    }

    [Fact]
    public void Missing_Q_Lora_Rank_Is_Named_When_The_Layers_Have_Q_A()
    {
        var e = Assert.Throws<ModelFormatException>(() => ModelLoader.Load(GgufWith(new() { ["deepseek2.attention.q_lora_rank"] = null })));
        Assert.Contains("deepseek2.attention.q_lora_rank", e.Message);
    }

    [Fact]
    public void Key_Length_That_Is_Not_The_Latent_Row_Is_Named()
    {
        var e = Assert.Throws<ModelFormatException>(() => ModelLoader.Load(GgufWith(new() { ["deepseek2.attention.key_length"] = 16u })));
        Assert.Contains("deepseek2.attention.key_length 16", e.Message);
        Assert.Contains("kv_lora_rank + rope (40)", e.Message);
    }

    [Fact]
    public void Split_Layout_Keys_Without_Split_Tensors_Name_The_Missing_Tensor()
    {
        var e = Assert.Throws<ModelFormatException>(() => ModelLoader.Load(GgufWith(new()
        {
            ["deepseek2.attention.head_count_kv"] = 1u,
            ["deepseek2.attention.key_length"] = 40u,
            ["deepseek2.attention.value_length"] = 32u,
            ["deepseek2.attention.key_length_mla"] = 16u,
            ["deepseek2.attention.value_length_mla"] = 16u,
        }, MlaGgufLayout.FusedKeyValue)));
        Assert.Contains("'blk.0.attn_k_b.weight' is missing", e.Message);
    }

    [Fact]
    public void Fused_Layout_Keys_Without_Fused_Tensors_Name_The_Missing_Tensor()
    {
        var e = Assert.Throws<ModelFormatException>(() => ModelLoader.Load(GgufWith(new()
        {
            ["deepseek2.attention.key_length"] = 16u,
            ["deepseek2.attention.value_length"] = 16u,
            ["deepseek2.attention.key_length_mla"] = null,
            ["deepseek2.attention.value_length_mla"] = null,
        })));
        Assert.Contains("'blk.0.attn_kv_b.weight' is missing", e.Message);
    }

    [Fact]
    public void Value_Head_Size_That_Disagrees_With_V_B_Names_The_Tensor_And_Shapes()
    {
        var e = Assert.Throws<ModelFormatException>(() => ModelLoader.Load(GgufWith(new() { ["deepseek2.attention.value_length_mla"] = 8u })));
        Assert.Contains("attn_v_b.weight", e.Message);
        Assert.Contains("[4,16,32]", e.Message);
        Assert.Contains("expected [4,8,32]", e.Message);
    }

    [Fact]
    public void Softmax_Gating_Is_Refused_Naming_The_Key()
    {
        var e = Assert.Throws<UnsupportedModelException>(() => ModelLoader.Load(GgufWith(new() { ["deepseek2.expert_gating_func"] = 1u })));
        Assert.Contains("deepseek2.expert_gating_func 1", e.Message);
    }

    [Fact]
    public void Hugging_Face_Kv_B_Of_The_Wrong_Shape_Is_Named()
    {
        string folder = _checkpoint.WriteHuggingFace(_dir.File("hf"));
        string config = Path.Combine(folder, "config.json");
        File.WriteAllText(config, File.ReadAllText(config).Replace("\"v_head_dim\":16", "\"v_head_dim\":12"));
        var e = Assert.Throws<ModelFormatException>(() => ModelLoader.Load(folder));
        Assert.Contains("model.layers.0.self_attn.kv_b_proj.weight", e.Message);
        Assert.Contains("expected [80,32]", e.Message);
    }

    [Fact]
    public void The_Cli_Reports_An_Inconsistent_File_In_One_Line_With_Exit_Code_1()
    {
        var result = GlmCli.Run("generate", "--model", GgufWith(new() { ["deepseek2.attention.key_length"] = 16u }), "--token-ids", "1,2");
        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith("error: ", result.Stderr);
        Assert.Contains("deepseek2.attention.key_length 16", result.Stderr);
        Assert.Single(result.Stderr.Trim().Split('\n'));
    }
}
