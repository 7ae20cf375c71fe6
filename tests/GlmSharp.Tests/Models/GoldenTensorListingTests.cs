using GlmSharp.Configs;
using GlmSharp.Models;

namespace GlmSharp.Tests.Models;

/// <summary>Real GLM configs, built without weights, ask for exactly the tensors the real checkpoints hold.</summary>
public sealed class GoldenTensorListingTests
{
    [Theory]
    [InlineData("glm-4-9b-0414")]
    [InlineData("glm-4-32b-0414")]
    [InlineData("glm-4-9b-chat-hf")]
    [InlineData("glm-edge-1.5b-chat")]
    [InlineData("glm-4.5-air")]
    [InlineData("glm-4.7-flash")]
    [InlineData("glm-5.2")]
    public void Tensor_Names_And_Shapes_Match_The_Golden_Listing(string checkpoint)
    {
        string folder = Path.Combine(AppContext.BaseDirectory, "Golden");
        var config = HfConfigLoader.Load(Path.Combine(folder, checkpoint + ".config.json"));
        var architecture = ModelRegistry.ByModelType(config.ModelType, checkpoint);

        var actual = AsStoredByHuggingFace(TensorListing.For(architecture, config))
            .Select(t => $"{t.Name} [{string.Join(",", t.Shape)}]")
            .Order(StringComparer.Ordinal)
            .ToArray();
        var expected = File.ReadAllLines(Path.Combine(folder, checkpoint + ".tensors.txt")).Order(StringComparer.Ordinal).ToArray();

        Assert.Equal(expected, actual);
    }

    /// <summary>
    /// MLA layers load kv_b_proj as the per-head k_b_proj [heads, kv_lora_rank, nope] and v_b_proj [heads, v, kv_lora_rank]
    /// it is split into (MlaKvSplitTensorSource); the checkpoint holds the one [heads · (nope + v), kv_lora_rank] tensor.
    /// </summary>
    private static IEnumerable<(string Name, long[] Shape)> AsStoredByHuggingFace(IReadOnlyList<(string Name, long[] Shape)> listing)
    {
        foreach (var (name, shape) in listing)
        {
            if (name.EndsWith("self_attn.v_b_proj.weight", StringComparison.Ordinal)) continue;
            if (!name.EndsWith("self_attn.k_b_proj.weight", StringComparison.Ordinal))
            {
                yield return (name, shape);
                continue;
            }
            var valueShape = listing.Single(t => t.Name == name.Replace("k_b_proj", "v_b_proj")).Shape;
            yield return (name.Replace("k_b_proj", "kv_b_proj"), [shape[0] * (shape[2] + valueShape[1]), shape[1]]);
        }
    }
}
