using GlmSharp.Inference;
using GlmSharp.Models;
using GlmSharp.Tests.Support;

namespace GlmSharp.Tests.Inference;

public sealed class GeneratorTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly LoadedModel _model;

    public GeneratorTests() => _model = ModelLoader.Load(TinyChatModel.Write(_dir.File("hf")).Folder);

    public void Dispose()
    {
        _model.Dispose();
        _dir.Dispose();
    }

    private static async Task<List<GenerationChunk>> Collect(IAsyncEnumerable<GenerationChunk> stream)
    {
        var chunks = new List<GenerationChunk>();
        await foreach (var c in stream) chunks.Add(c);
        return chunks;
    }

    private static readonly int[] Prompt = [11, 42, 7, 300];

    [Fact]
    public async Task Greedy_Generation_Follows_The_Argmax_Of_A_Fresh_Forward_Pass_At_Every_Step()
    {
        var chunks = await Collect(new Generator(_model).GenerateAsync(Prompt, new GenerationOptions
        {
            MaxTokens = 10, Sampling = SamplingOptions.Greedy, StopTokenIds = [],
        }));
        var ids = chunks.Where(c => c.TokenId is not null).Select(c => c.TokenId!.Value).ToArray();
        Assert.Equal(10, ids.Length);
        Assert.Equal(FinishReason.Length, chunks[^1].Finish);

        var tokens = Prompt.ToList();
        var logits = new float[_model.Config.VocabSize * 20];
        foreach (int id in ids)
        {
            var session = _model.Model.CreateSession(64);
            _model.Model.Forward(tokens.ToArray(), session, logits);
            Assert.Equal(Sampler.ArgMax(logits.AsSpan(0, _model.Config.VocabSize)), id);
            tokens.Add(id);
        }
    }

    [Fact]
    public async Task The_Same_Seed_Reproduces_A_Sampled_Continuation()
    {
        var options = new GenerationOptions { MaxTokens = 12, StopTokenIds = [], Sampling = new SamplingOptions { Temperature = 1.5f, TopK = 0, TopP = 1, MinP = 0, Seed = 1234 } };
        var a = await Collect(new Generator(_model).GenerateAsync(Prompt, options));
        var b = await Collect(new Generator(_model).GenerateAsync(Prompt, options));
        Assert.Equal(a.Select(c => c.TokenId), b.Select(c => c.TokenId));
    }

    [Fact]
    public async Task A_Stop_Token_Ends_Generation_Without_Being_Emitted()
    {
        var greedy = await Collect(new Generator(_model).GenerateAsync(Prompt, new GenerationOptions { MaxTokens = 6, Sampling = SamplingOptions.Greedy, StopTokenIds = [] }));
        int third = greedy[2].TokenId!.Value;
        int firstOccurrence = greedy.FindIndex(c => c.TokenId == third);
        var stopped = await Collect(new Generator(_model).GenerateAsync(Prompt, new GenerationOptions { MaxTokens = 6, Sampling = SamplingOptions.Greedy, StopTokenIds = [third] }));
        Assert.Equal(firstOccurrence, stopped.Count(c => c.TokenId is not null));
        Assert.DoesNotContain(stopped, c => c.TokenId == third);
        Assert.Equal(FinishReason.Stop, stopped[^1].Finish);
    }

    [Fact]
    public async Task Streamed_Text_Equals_The_Decoded_Ids()
    {
        var chunks = await Collect(new Generator(_model).GenerateAsync(Prompt, new GenerationOptions { MaxTokens = 20, Sampling = SamplingOptions.Greedy, StopTokenIds = [] }));
        var ids = chunks.Where(c => c.TokenId is not null).Select(c => c.TokenId!.Value).ToArray();
        Assert.Equal(_model.Tokenizer!.Decode(ids, includeSpecial: false), string.Concat(chunks.Select(c => c.Text)));
    }

    [Fact]
    public async Task Cancellation_Stops_The_Stream_And_Keeps_What_Was_Produced()
    {
        using var cancel = new CancellationTokenSource();
        var received = new List<GenerationChunk>();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var chunk in new Generator(_model).GenerateAsync(Prompt, new GenerationOptions { MaxTokens = 50, Sampling = SamplingOptions.Greedy, StopTokenIds = [] }, cancel.Token))
            {
                received.Add(chunk);
                if (received.Count == 3) cancel.Cancel();
            }
        });
        Assert.Equal(3, received.Count);
    }

    [Fact]
    public async Task A_Second_Turn_Reuses_The_Cached_Prefix_And_Gives_The_Same_Tokens_As_A_Fresh_Generator()
    {
        var options = new GenerationOptions { MaxTokens = 5, Sampling = SamplingOptions.Greedy, StopTokenIds = [] };
        var generator = new Generator(_model);
        await Collect(generator.GenerateAsync(Prompt, options));
        int[] longer = [.. Prompt, 8, 9, 10];
        var reused = await Collect(generator.GenerateAsync(longer, options));
        var fresh = await Collect(new Generator(_model).GenerateAsync(longer, options));
        Assert.Equal(fresh.Select(c => c.TokenId), reused.Select(c => c.TokenId));
    }
}
