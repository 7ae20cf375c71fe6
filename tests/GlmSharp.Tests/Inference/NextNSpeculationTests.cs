using GlmSharp.Inference;
using GlmSharp.Models;
using GlmSharp.Tests.Support;
using Xunit.Abstractions;

namespace GlmSharp.Tests.Inference;

/// <summary>
/// Self-speculation with a model's own NextN layer (glm4_moe; glm4_moe_lite and glm_moe_dsa, whose layer is an MLA block,
/// with an indexer of its own for glm_moe_dsa, caching in a stream of its own): the tokens are the model's own greedy
/// tokens whatever the layer drafts, at every draft length, and a layer that often agrees with the model is accepted often.
/// </summary>
public sealed class NextNSpeculationTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    public void Greedy_Output_With_The_NextN_Layer_Equals_The_Models_Own(int draftTokens)
    {
        using var model = ModelLoader.Load(TinyMoeChatModel.Write(_dir.File($"moe{draftTokens}")));
        using var alone = new Generator(model, 128);
        using var speculative = SpeculativeGenerator.WithNextN(model, draftTokens, 128);
        var options = new GenerationOptions { MaxTokens = 40, Sampling = SamplingOptions.Greedy, StopTokenIds = [] };
        foreach (string text in new[] { "The quick brown fox", "春眠不觉晓", "x = f(y) + 1;", "Numbers like 12345", "A", "A model of" })
        {
            var prompt = model.Tokenizer!.Encode(text);
            Assert.Equal(Tokens(alone.GenerateAsync(prompt, options)), Tokens(speculative.GenerateAsync(prompt, options)));
        }
        output.WriteLine($"k = {draftTokens}: acceptance {speculative.Stats.AcceptanceRate:P0}, {speculative.Stats.TokensPerStep:F2} tokens per target step");
        Assert.InRange(speculative.Stats.AcceptanceRate, 0.05, 0.999);
    }

    private static readonly TinyDsaSpec Indexer = new(Heads: 4, TopK: 8, "FS", HeadDim: 32);

    /// <summary>
    /// Prompts of 1 to 30 tokens and 40 new tokens each: past the indexer's top-k of 8, so the main model and the NextN
    /// layer both attend sparsely for most of every run.
    /// </summary>
    private static readonly string[] Prompts =
    [
        "The quick brown fox", "春眠不觉晓", "x = f(y) + 1;", "Numbers like 12345", "A", "A model of",
        "Once upon a time, there was a little model that wanted to draft the next token for its bigger sibling",
        "{\"key\": [1, 2, 3]}",
    ];

    [Theory]
    [InlineData(false, 1)]
    [InlineData(false, 2)]
    [InlineData(false, 3)]
    [InlineData(true, 1)]
    [InlineData(true, 2)]
    [InlineData(true, 3)]
    public void Greedy_Output_With_An_Mla_NextN_Layer_Equals_The_Models_Own(bool sparse, int draftTokens)
    {
        using var model = ModelLoader.Load(TinyMoeChatModel.WriteMla(_dir.File($"mla{sparse}{draftTokens}"), sparse ? Indexer : null));
        using var alone = new Generator(model, 128);
        using var speculative = SpeculativeGenerator.WithNextN(model, draftTokens, 128);
        var options = new GenerationOptions { MaxTokens = 40, Sampling = SamplingOptions.Greedy, StopTokenIds = [] };
        var total = new SpeculationStats(0, 0, 0);
        foreach (string text in Prompts)
        {
            var prompt = model.Tokenizer!.Encode(text);
            Assert.Equal(Tokens(alone.GenerateAsync(prompt, options)), Tokens(speculative.GenerateAsync(prompt, options)));
            var s = speculative.Stats;
            total = new SpeculationStats(total.Steps + s.Steps, total.Drafted + s.Drafted, total.Accepted + s.Accepted);
        }
        output.WriteLine($"{model.Config.ModelType}, k = {draftTokens}: acceptance {total.AcceptanceRate:P0} ({total.Accepted} of {total.Drafted}), " +
            $"{total.TokensPerStep:F2} tokens per target step over {Prompts.Length} prompts");
        Assert.InRange(total.AcceptanceRate, 0.05, 0.999);
    }

    [Fact]
    public void Sampled_Output_With_The_NextN_Layer_Is_Reproducible_And_Ends_As_Asked()
    {
        using var model = ModelLoader.Load(TinyMoeChatModel.Write(_dir.File("sampled")));
        using var speculative = SpeculativeGenerator.WithNextN(model, 3, 128);
        var options = new GenerationOptions { MaxTokens = 25, Sampling = new SamplingOptions { Temperature = 0.8f, TopK = 0, TopP = 1, MinP = 0, Seed = 3 }, StopTokenIds = [] };
        var prompt = model.Tokenizer!.Encode("The quick brown fox");
        var first = Tokens(speculative.GenerateAsync(prompt, options));
        Assert.Equal(25, first.Length);
        Assert.Equal(first, Tokens(speculative.GenerateAsync(prompt, options)));
    }

    [Fact]
    public void A_Model_Without_A_NextN_Layer_Is_Refused_Naming_It()
    {
        var (folder, _, _) = TinyChatModel.Write(_dir.File("dense"), seed: 17);
        using var model = ModelLoader.Load(folder);
        var e = Assert.Throws<GlmSharp.Errors.UnsupportedModelException>(() => SpeculativeGenerator.WithNextN(model, 1, 128));
        Assert.Contains("no multi-token-prediction layer", e.Message);
        Assert.Contains(model.Path, e.Message);
    }

    private static int[] Tokens(IAsyncEnumerable<GenerationChunk> chunks) =>
        chunks.ToBlockingEnumerable().Where(c => c.TokenId is not null).Select(c => c.TokenId!.Value).ToArray();
}
