using GlmSharp.Inference;
using GlmSharp.Models;
using GlmSharp.Serving;
using GlmSharp.Tests.Support;
using GlmSharp.Vision;
using Xunit.Abstractions;

namespace GlmSharp.Tests.Vision;

/// <summary>
/// Requests with images in the continuous batcher: prompt chunks that start and end inside an image, decode rows of
/// other requests beside them, and a cache too small for all of them (preemption, then the image rows fed again) leave
/// each request with exactly what <see cref="Generator"/> gives it alone (whose output is libmtmd's, see
/// <see cref="ImageGenerateCliTests"/>).
/// </summary>
public sealed class ImageBatchingTests(ITestOutputHelper output) : IDisposable
{
    private static readonly TinyGlm4vShape Shape = new(64, 4, 2, 16, 96, [1, 1, 2, 0], 32, 2, 2, 4, 6, 80);
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Image_Requests_Chunked_And_Preempted_Get_What_They_Get_Alone()
    {
        var model = TinyGlm4vModel.Write(_dir, Shape, seed: 31);
        using var loaded = ModelLoader.Load(model.TextGguf);
        using var encoder = ImageEncoder.Open(loaded, model.Mmproj);
        var prompts = new[] { (45, 30), (30, 45), (40, 40) }.Select(size =>
        {
            var image = encoder.Encode(Glm4vOracleTests.ToRgba(Glm4vOracleTests.Pattern(size.Item1, size.Item2)), $"{size}");
            return MultimodalPrompt.FromText($"Look: {ImagePrompt.Placeholder} what is it?", loaded.Tokenizer!, [image], encoder.ImageTokenId, model.TextGguf);
        }).ToArray();
        var options = new GenerationOptions { MaxTokens = 60, Sampling = SamplingOptions.Greedy, StopTokenIds = [] };

        var alone = new List<List<int>>();
        foreach (var prompt in prompts)
        {
            using var generator = new Generator(loaded, contextLength: 128);
            alone.Add(await Ids(generator.GenerateAsync(prompt, options)));
        }

        // Eight rows a step, so prompt chunks begin and end inside images; three blocks of 64 positions for three requests of ~95.
        using var batcher = new ContinuousBatcher(loaded, new BatcherOptions { MaxSequences = 3, StepTokens = 8, ContextLength = 128, CachePositions = 192 });
        var batched = await Task.WhenAll(prompts.Select(prompt => Ids(batcher.GenerateAsync(prompt, options))));
        output.WriteLine($"{batcher.Preemptions} preemptions; image rows {string.Join(", ", prompts.Select(p => p.Length))} prompt rows");
        Assert.True(batcher.Preemptions > 0, "the cache held every request: nothing was preempted");
        for (int i = 0; i < prompts.Length; i++) Assert.Equal(alone[i], batched[i]);
    }

    private static async Task<List<int>> Ids(IAsyncEnumerable<GenerationChunk> chunks)
    {
        var ids = new List<int>();
        await foreach (var chunk in chunks)
            if (chunk.TokenId is int id) ids.Add(id);
        return ids;
    }
}
