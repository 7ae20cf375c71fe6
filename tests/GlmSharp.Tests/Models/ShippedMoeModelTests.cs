using GlmSharp.Inference;
using GlmSharp.Models;
using Xunit.Abstractions;

namespace GlmSharp.Tests.Models;

/// <summary>
/// The shipped glm4_moe model (models/glm-tiny-moe.gguf, trained by `glm train --arch glm4_moe`): its NextN layer drafts
/// for speculative decoding without changing greedy output, and on English text it is right often enough to pay.
/// </summary>
public sealed class ShippedMoeModelTests(ITestOutputHelper output) : IDisposable
{
    private static readonly string ModelPath = Path.Combine(AppContext.BaseDirectory, "models", "glm-tiny-moe.gguf");
    private readonly LoadedModel _model = ModelLoader.Load(ModelPath);

    public void Dispose() => _model.Dispose();

    private static readonly string[] Prompts = ["The king said", "In the morning, the old man", "She opened the door and", "It was a dark and stormy night"];

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Greedy_Output_With_The_NextN_Layer_Equals_The_Models_Own(int draftTokens)
    {
        using var alone = new Generator(_model, 256);
        using var speculative = SpeculativeGenerator.WithNextN(_model, draftTokens, 256);
        var options = new GenerationOptions { MaxTokens = 48, Sampling = SamplingOptions.Greedy, StopTokenIds = [] };
        int drafted = 0, accepted = 0;
        foreach (string text in Prompts)
        {
            var prompt = _model.Tokenizer!.Encode(text);
            Assert.Equal(Tokens(alone.GenerateAsync(prompt, options)), Tokens(speculative.GenerateAsync(prompt, options)));
            drafted += speculative.Stats.Drafted;
            accepted += speculative.Stats.Accepted;
        }
        double acceptance = (double)accepted / drafted;
        output.WriteLine($"k = {draftTokens}: {accepted} of {drafted} drafts accepted ({acceptance:P0})");
        Assert.True(acceptance >= MinimumAcceptance, $"the trained NextN layer kept only {acceptance:P0} of its drafts");
    }

    /// <summary>A random NextN layer is right about one time in the vocabulary size; a trained one must be right often.</summary>
    private const double MinimumAcceptance = 0.3;

    private static int[] Tokens(IAsyncEnumerable<GenerationChunk> chunks) =>
        chunks.ToBlockingEnumerable().Where(c => c.TokenId is not null).Select(c => c.TokenId!.Value).ToArray();
}
