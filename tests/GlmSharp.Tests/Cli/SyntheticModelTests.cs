using GlmSharp.Cli.Commands.Bench;
using GlmSharp.Models;
using GlmSharp.Tokenizers;

namespace GlmSharp.Tests.Cli;

/// <summary>The synthetic benchmark models have the sizes and shapes of the checkpoints they copy.</summary>
public sealed class SyntheticModelTests
{
    private static IReadOnlyList<(string Name, long[] Shape)> Tensors(string name)
    {
        var config = SyntheticModel.Config(name);
        return TensorListing.For(ModelRegistry.ByModelType(config.ModelType, name), config);
    }

    /// <summary>GLM-4-9B-0414 is published as 9.4B parameters.</summary>
    [Fact]
    public void Glm_4_9b_Has_The_Published_Parameter_Count()
    {
        double parameters = Tensors("glm-4-9b").Sum(t => (double)t.Shape.Aggregate(1L, (a, b) => a * b));
        Assert.InRange(parameters, 9.35e9, 9.45e9);
    }

    /// <summary>The stand-in vocabulary: the model's size, text as one token per byte, GLM's specials at GLM's ids.</summary>
    [Theory]
    [InlineData("edge-1.5b", 59264, 59246)]
    [InlineData("glm-4-9b", 151552, 151329)]
    public void The_Vocabulary_Has_The_Models_Size_Bytes_And_Glms_Special_Ids(string name, int size, int endOfText)
    {
        var tokenizer = new BpeTokenizer(SyntheticModel.Vocabulary(SyntheticModel.Config(name)));
        Assert.Equal(size, tokenizer.VocabSize);
        Assert.Equal("héllo"u8.ToArray().Select(b => (int)b), tokenizer.Encode("héllo"));
        Assert.Equal("héllo", tokenizer.Decode(tokenizer.Encode("héllo")));
        Assert.Equal(endOfText, tokenizer.AddedTokenId("<|endoftext|>"));
        Assert.Equal(endOfText + 2, tokenizer.AddedTokenId("[gMASK]"));
        Assert.Equal(endOfText + 7, tokenizer.AddedTokenId("<|user|>"));
    }

    /// <summary>GLM-4-32B-0414's shapes as a llama.cpp conversion log shows them: 61 layers, k of 8 × 128 rows, a 23,040-wide MLP, no q/k/v bias.</summary>
    [Fact]
    public void Glm_4_32b_Has_The_Shapes_Of_The_Checkpoint()
    {
        var tensors = Tensors("glm-4-32b").ToDictionary(t => t.Name, t => t.Shape);
        Assert.Equal([1024L, 6144L], tensors["model.layers.60.self_attn.k_proj.weight"]);
        Assert.Equal([6144L, 23040L], tensors["model.layers.60.mlp.down_proj.weight"]);
        Assert.DoesNotContain("model.layers.61.self_attn.k_proj.weight", tensors.Keys);
        Assert.DoesNotContain(tensors.Keys, n => n.EndsWith("k_proj.bias", StringComparison.Ordinal));
    }

    /// <summary>
    /// GLM-5's shapes as its checkpoint lists them (q_b [16384, 2048], kv_a [576, 6144], indexer wq_b [4096, 2048], wk [128,
    /// 6144], weights_proj [32, 6144]); with --layers, the indexer schedule keeps one entry per kept layer. Not written here:
    /// even one layer with GLM-5's 154,880 × 6,144 embedding and head is gigabytes.
    /// </summary>
    [Fact]
    public void Glm_5_Has_The_Shapes_Of_The_Checkpoint_And_Layers_Cut_The_Indexer_Schedule()
    {
        var tensors = Tensors("glm-5").ToDictionary(t => t.Name, t => t.Shape);
        Assert.Equal([16384L, 2048L], tensors["model.layers.77.self_attn.q_b_proj.weight"]);
        Assert.Equal([576L, 6144L], tensors["model.layers.77.self_attn.kv_a_proj_with_mqa.weight"]);
        Assert.Equal([4096L, 2048L], tensors["model.layers.77.self_attn.indexer.wq_b.weight"]);
        Assert.Equal([128L, 6144L], tensors["model.layers.77.self_attn.indexer.wk.weight"]);
        Assert.Equal([32L, 6144L], tensors["model.layers.77.self_attn.indexer.weights_proj.weight"]);
        var cut = Assert.IsType<GlmSharp.Configs.GlmMoeDsaConfig>(SyntheticModel.Config("glm-5", layers: 4));
        Assert.Equal(4, cut.NumLayers);
        var metadata = ModelRegistry.ByModelType(cut.ModelType, "glm-5").GgufMetadata(cut);
        Assert.Equal(4u, metadata["glm-dsa.block_count"]);
        Assert.Equal(4, ((uint[])metadata["glm-dsa.attention.indexer.types"]).Length);
    }

    /// <summary>--heads shrinks only what each head owns: q_b, k_b, v_b and o_proj; the latent, the rope and the indexer keep GLM-5's widths.</summary>
    [Fact]
    public void Fewer_Heads_Shrink_Only_The_Per_Head_Matrices()
    {
        var config = SyntheticModel.Config("glm-5", layers: 1, heads: 16);
        Assert.Equal((16, 16), (config.NumHeads, config.NumKvHeads));
        Assert.Equal(1, ((GlmSharp.Configs.GlmMoeDsaConfig)config).Moe.FirstDenseLayers); // one layer left: the dense lead layers are cut with it
        var tensors = TensorListing.For(ModelRegistry.ByModelType(config.ModelType, "glm-5"), config).ToDictionary(t => t.Name, t => t.Shape);
        Assert.Equal([16L * 256, 2048L], tensors["model.layers.0.self_attn.q_b_proj.weight"]);
        Assert.Equal([6144L, 16L * 256], tensors["model.layers.0.self_attn.o_proj.weight"]);
        Assert.Equal([576L, 6144L], tensors["model.layers.0.self_attn.kv_a_proj_with_mqa.weight"]);
        Assert.Equal([4096L, 2048L], tensors["model.layers.0.self_attn.indexer.wq_b.weight"]);
    }
}
