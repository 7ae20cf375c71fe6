using GlmSharp.Errors;
using GlmSharp.Inference;
using GlmSharp.Models;
using GlmSharp.Serving;
using GlmSharp.Tests.Support;
using Xunit.Abstractions;

namespace GlmSharp.Tests.Serving;

/// <summary>
/// Continuous batching on the shipped model: whatever else shares its steps — other requests' prompt chunks and decode
/// rows, a cache too small for all of them (preemption and recomputation) — each request gets exactly what it gets
/// served alone, and a cancelled request's cache is freed.
/// </summary>
public sealed class ContinuousBatcherTests(ITestOutputHelper output) : IDisposable
{
    private static readonly string DefaultModel = Path.Combine(AppContext.BaseDirectory, "models", "glm-tiny-chat");
    private readonly LoadedModel _model = ModelLoader.Load(DefaultModel);

    public void Dispose() => _model.Dispose();

    private static readonly string[] Prompts =
    [
        "The king said", "Once upon a time, there was", "In the morning, the old man", "春眠不觉晓", "Tell me a fortune.",
        "The weather today", "A long time ago in a small village by the sea, the people", "Numbers: 1, 2, 3,", "She opened the door and",
        "请写一首诗。", "The quick brown fox", "Money is",
    ];

    [Fact]
    public async Task Each_Of_Many_Concurrent_Requests_Gets_What_It_Gets_Alone()
    {
        var options = new GenerationOptions { MaxTokens = 24, Sampling = SamplingOptions.Greedy, StopTokenIds = [] };
        using var batcher = new ContinuousBatcher(_model, new BatcherOptions { MaxSequences = 4, StepTokens = 16, ContextLength = 512 });
        await AssertSameAsAlone(batcher, Prompts.Select(p => (p, options)).ToArray());
    }

    [Fact]
    public async Task Sampled_Requests_With_Seeds_Get_What_They_Get_Alone()
    {
        using var batcher = new ContinuousBatcher(_model, new BatcherOptions { MaxSequences = 3, StepTokens = 24, ContextLength = 512 });
        await AssertSameAsAlone(batcher, Prompts.Take(6).Select((p, i) =>
            (p, new GenerationOptions { MaxTokens = 20, Sampling = new SamplingOptions { Temperature = 0.9f, TopK = 40, Seed = 100 + i } })).ToArray());
    }

    /// <summary>Three blocks of 64 positions for four requests of up to ~100 tokens: steps run out of cache, requests give theirs back and are recomputed.</summary>
    [Fact]
    public async Task A_Cache_Too_Small_For_Every_Request_Preempts_And_Recomputes_Without_Changing_Outputs()
    {
        var options = new GenerationOptions { MaxTokens = 60, Sampling = SamplingOptions.Greedy, StopTokenIds = [] };
        using var batcher = new ContinuousBatcher(_model, new BatcherOptions { MaxSequences = 4, StepTokens = 32, ContextLength = 128, CachePositions = 192 });
        await AssertSameAsAlone(batcher, Prompts.Take(5).Select(p => (p, options)).ToArray());
        output.WriteLine($"{batcher.Preemptions} preemptions");
        Assert.True(batcher.Preemptions > 0, "the cache held every request: nothing was preempted");
        Assert.Equal(0, batcher.CacheUse.UsedBlocks);
        Assert.InRange(batcher.CacheUse.PrefixBlocks, 1, 3);
    }

    [Fact]
    public async Task A_Cancelled_Request_Gives_Its_Cache_Back_And_The_Others_Finish()
    {
        using var batcher = new ContinuousBatcher(_model, new BatcherOptions { MaxSequences = 2, StepTokens = 16, ContextLength = 512 });
        using var cancel = new CancellationTokenSource();
        var options = new GenerationOptions { MaxTokens = 300, Sampling = SamplingOptions.Greedy, StopTokenIds = [] };
        var other = Collect(batcher.GenerateAsync(_model.Tokenizer!.Encode("Money is"), options with { MaxTokens = 10 }));
        int received = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var _ in batcher.GenerateAsync(_model.Tokenizer!.Encode("The king said"), options, cancel.Token))
                if (++received == 3) cancel.Cancel();
        });
        Assert.Equal(11, (await other).Count);
        for (int wait = 0; wait < 1000 && (batcher.Running > 0 || batcher.CacheUse.UsedBlocks > 0); wait++) await Task.Delay(10);
        Assert.Equal(0, batcher.Running);
        Assert.Equal(0, batcher.CacheUse.UsedBlocks);
    }

    private const string SharedStart =
        "You are a helpful assistant in a small village by the sea. The people there fish, sing and tell old stories, " +
        "and they ask you about the weather, the tides, the boats and the king who lived in the castle on the hill. " +
        "Answer them kindly, in short sentences, as an old friend would. ";

    [Fact]
    public async Task A_Request_That_Starts_Like_A_Finished_One_Reuses_Its_Cache_And_Gets_What_It_Gets_Alone()
    {
        var tokenizer = _model.Tokenizer!;
        var options = new GenerationOptions { MaxTokens = 16, Sampling = SamplingOptions.Greedy, StopTokenIds = [] };
        using var batcher = new ContinuousBatcher(_model, new BatcherOptions { MaxSequences = 2, StepTokens = 32, ContextLength = 512 });
        var first = tokenizer.Encode(SharedStart + "What is the weather today?");
        var second = tokenizer.Encode(SharedStart + "Tell me about the king.");
        int shared = first.AsSpan().CommonPrefixLength(second);
        Assert.True(shared > CausalLm.DefaultBlockPositions, $"the prompts share only {shared} tokens");

        await AssertSameAsAlone(batcher, [(SharedStart + "What is the weather today?", options)]);
        var reply = await Collect(batcher.GenerateAsync(second, options));
        Assert.Equal(shared, reply[^1].CachedPromptTokens);
        await AssertSameAsAlone(batcher, [(SharedStart + "Tell me about the king.", options)]);
    }

    /// <summary>The next turn of a chat is the last prompt, the reply and more: all of it but the reply's last token (never fed) is reused.</summary>
    [Fact]
    public async Task A_Follow_Up_Turn_Reuses_The_Previous_Prompt_And_Reply()
    {
        var tokenizer = _model.Tokenizer!;
        var options = new GenerationOptions { MaxTokens = 12, Sampling = SamplingOptions.Greedy, StopTokenIds = [] };
        using var batcher = new ContinuousBatcher(_model, new BatcherOptions { MaxSequences = 2, StepTokens = 32, ContextLength = 512 });
        var turn = tokenizer.Encode(SharedStart + "Once upon a time");
        var reply = await Collect(batcher.GenerateAsync(turn, options));
        int[] next = [.. turn, .. reply.Where(c => c.TokenId is not null).Select(c => c.TokenId!.Value), .. tokenizer.Encode(" And then?")];

        var followUp = await Collect(batcher.GenerateAsync(next, options));
        Assert.Equal(turn.Length + 12 - 1, followUp[^1].CachedPromptTokens);
        using var alone = new Generator(_model, 512);
        Assert.Equal(await Collect(alone.GenerateAsync(next, options)), followUp.Select(c => c with { CachedPromptTokens = 0 }).ToList());
    }

    [Fact]
    public async Task Without_A_Prefix_Cache_Every_Prompt_Is_Computed_In_Full()
    {
        var options = new GenerationOptions { MaxTokens = 4, Sampling = SamplingOptions.Greedy, StopTokenIds = [] };
        using var batcher = new ContinuousBatcher(_model, new BatcherOptions { MaxSequences = 2, ContextLength = 512, PrefixCacheEntries = 0 });
        var prompt = _model.Tokenizer!.Encode(SharedStart + "Hello");
        await Collect(batcher.GenerateAsync(prompt, options));
        var again = await Collect(batcher.GenerateAsync(prompt, options));
        Assert.Equal(0, again[^1].CachedPromptTokens);
        Assert.Equal(0, batcher.CacheUse.PrefixBlocks);
    }

    /// <summary>Each token's log-probabilities are the log-softmax of the model's logits at its position (computed here from a plain forward pass).</summary>
    [Fact]
    public async Task Log_Probabilities_Are_The_Log_Softmax_Of_The_Models_Logits()
    {
        var prompt = _model.Tokenizer!.Encode("The quick brown fox");
        var options = new GenerationOptions { MaxTokens = 6, Sampling = new SamplingOptions { Temperature = 0.8f, Seed = 5 }, StopTokenIds = [], TopLogprobs = 4 };
        using var batcher = new ContinuousBatcher(_model, new BatcherOptions { MaxSequences = 2, ContextLength = 512 });
        var tokens = (await Collect(batcher.GenerateAsync(prompt, options))).Where(c => c.TokenId is not null).ToList();
        Assert.Equal(6, tokens.Count);

        int vocab = _model.Config.VocabSize;
        var logits = GlmSharpRun.Logits(_model, [.. prompt, .. tokens.Select(c => c.TokenId!.Value).SkipLast(1)]);
        for (int i = 0; i < tokens.Count; i++)
        {
            var row = logits.AsSpan((prompt.Length - 1 + i) * vocab, vocab).ToArray();
            double logSumExp = Math.Log(row.Sum(l => Math.Exp(l - row.Max()))) + row.Max();
            var scores = tokens[i].Logprobs!;
            Assert.Equal(row[tokens[i].TokenId!.Value] - logSumExp, scores.Logprob, 3);
            Assert.Equal(row.Select((l, id) => (l, id)).OrderByDescending(p => p.l).Take(4).Select(p => p.id), scores.Top.Select(t => t.TokenId));
        }
    }

    /// <summary>A reply held to a JSON object is one, whatever the sampling; it ends when the object closes.</summary>
    [Fact]
    public async Task A_Json_Object_Reply_Is_A_Json_Object()
    {
        using var batcher = new ContinuousBatcher(_model, new BatcherOptions { MaxSequences = 4, ContextLength = 512 });
        var prompt = _model.Tokenizer!.Encode("Give the answer as JSON: the capital of France is");
        var samplings = new[] { SamplingOptions.Greedy }.Concat(Enumerable.Range(0, 5).Select(seed => new SamplingOptions { Temperature = 1f, Seed = seed }));
        var replies = await Task.WhenAll(samplings.Select(s => Collect(batcher.GenerateAsync(prompt, new GenerationOptions { MaxTokens = 200, Sampling = s, JsonObject = true }))));
        foreach (var reply in replies)
        {
            string text = string.Concat(reply.Select(c => c.Text));
            output.WriteLine($"{reply[^1].Finish}: {text}");
            var prefix = new JsonPrefix();
            Assert.True(prefix.Push(System.Text.Encoding.UTF8.GetBytes(text)), $"not the start of a JSON object: {text}");
            if (reply[^1].Finish == FinishReason.Stop)
                Assert.Equal(System.Text.Json.JsonValueKind.Object, System.Text.Json.JsonDocument.Parse(text).RootElement.ValueKind);
        }
        Assert.Contains(replies, r => r[^1].Finish == FinishReason.Stop);
    }

    [Fact]
    public void A_Prompt_Over_The_Context_Is_Refused_At_Once_Naming_The_Limit()
    {
        using var batcher = new ContinuousBatcher(_model, new BatcherOptions { ContextLength = 16 });
        var e = Assert.Throws<ContextLimitException>(() => batcher.GenerateAsync(Enumerable.Repeat(5, 16).ToArray(), new GenerationOptions()));
        Assert.Contains("the context holds 16", e.Message);
    }

    private async Task AssertSameAsAlone(ContinuousBatcher batcher, (string Prompt, GenerationOptions Options)[] requests)
    {
        var tokenizer = _model.Tokenizer!;
        var served = requests.Select(r => Collect(batcher.GenerateAsync(tokenizer.Encode(r.Prompt), r.Options))).ToArray();
        await Task.WhenAll(served);
        using var alone = new Generator(_model, 512);
        for (int i = 0; i < requests.Length; i++)
        {
            var expected = await Collect(alone.GenerateAsync(tokenizer.Encode(requests[i].Prompt), requests[i].Options));
            // Served alone, nothing comes from a prefix cache; what the batcher reused is checked where it is the subject.
            var actual = (await served[i]).Select(c => c with { CachedPromptTokens = 0 }).ToList();
            output.WriteLine($"{requests[i].Prompt} → {string.Concat(actual.Select(c => c.Text))}");
            Assert.Equal(expected, actual);
        }
    }

    private static async Task<List<GenerationChunk>> Collect(IAsyncEnumerable<GenerationChunk> chunks)
    {
        var list = new List<GenerationChunk>();
        await foreach (var chunk in chunks) list.Add(chunk);
        return list;
    }
}
