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
}
