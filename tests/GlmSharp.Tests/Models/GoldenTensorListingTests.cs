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
    public void Tensor_Names_And_Shapes_Match_The_Golden_Listing(string checkpoint)
    {
        string folder = Path.Combine(AppContext.BaseDirectory, "Golden");
        var config = HfConfigLoader.Load(Path.Combine(folder, checkpoint + ".config.json"));
        var architecture = ModelRegistry.ByModelType(config.ModelType, checkpoint);

        var actual = TensorListing.For(architecture, config)
            .Select(t => $"{t.Name} [{string.Join(",", t.Shape)}]")
            .Order(StringComparer.Ordinal)
            .ToArray();
        var expected = File.ReadAllLines(Path.Combine(folder, checkpoint + ".tensors.txt")).Order(StringComparer.Ordinal).ToArray();

        Assert.Equal(expected, actual);
    }
}
