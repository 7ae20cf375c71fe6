using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using GlmSharp.Inference;
using GlmSharp.Models;
using GlmSharp.Serving;

namespace GlmSharp.Tests.Server;

/// <summary>`POST /v1/completions`: a raw prompt continued as `glm generate` continues it, whole and streamed.</summary>
public sealed class TextCompletionsTests : IDisposable
{
    private static readonly string DefaultModel = Path.Combine(AppContext.BaseDirectory, "models", "glm-tiny-chat");
    private readonly LoadedModel _model = ModelLoader.Load(DefaultModel);

    public void Dispose() => _model.Dispose();

    [Fact]
    public async Task A_Prompt_Is_Continued_As_Generate_Continues_It_Whole_And_Streamed()
    {
        const string prompt = "In the morning, the old man";
        using var alone = new Generator(_model, 512);
        var expected = string.Concat(await alone.GenerateAsync(_model.Tokenizer!.Encode(prompt),
            new GenerationOptions { MaxTokens = 20, Sampling = SamplingOptions.Greedy }).Select(c => c.Text).ToListAsync());

        using var batcher = new ContinuousBatcher(_model, new BatcherOptions { MaxSequences = 2, ContextLength = 512 });
        await using var server = await RunningServer.Start(_model, batcher);
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        using var whole = JsonDocument.Parse(await (await http.PostAsJsonAsync("/v1/completions", new { prompt, max_tokens = 20, temperature = 0 })).Content.ReadAsStringAsync());
        var choice = whole.RootElement.GetProperty("choices")[0];
        Assert.Equal("text_completion", whole.RootElement.GetProperty("object").GetString());
        Assert.Equal(expected, choice.GetProperty("text").GetString());
        Assert.Equal(_model.Tokenizer!.Encode(prompt).Length, whole.RootElement.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());

        string events = await (await http.PostAsJsonAsync("/v1/completions", new { prompt, max_tokens = 20, temperature = 0, stream = true })).Content.ReadAsStringAsync();
        var streamed = new StringBuilder();
        foreach (string data in events.Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Select(e => e["data: ".Length..]).TakeWhile(e => e != "[DONE]"))
            streamed.Append(JsonDocument.Parse(data).RootElement.GetProperty("choices")[0].GetProperty("text").GetString());
        Assert.Equal(expected, streamed.ToString());
        Assert.EndsWith("data: [DONE]\n\n", events);

        using var fromIds = JsonDocument.Parse(await (await http.PostAsJsonAsync("/v1/completions", new { prompt = _model.Tokenizer!.Encode(prompt), max_tokens = 20, temperature = 0 })).Content.ReadAsStringAsync());
        Assert.Equal(expected, fromIds.RootElement.GetProperty("choices")[0].GetProperty("text").GetString());
    }

    /// <summary>vLLM's ignore_eos: the reply runs to max_tokens even where the model would end its text.</summary>
    [Fact]
    public async Task Ignore_Eos_Generates_Max_Tokens()
    {
        using var batcher = new ContinuousBatcher(_model, new BatcherOptions { MaxSequences = 1, ContextLength = 512 });
        await using var server = await RunningServer.Start(_model, batcher);
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        using var plain = JsonDocument.Parse(await (await http.PostAsJsonAsync("/v1/completions", new { prompt = "The king said", max_tokens = 200, temperature = 0 })).Content.ReadAsStringAsync());
        using var ignoring = JsonDocument.Parse(await (await http.PostAsJsonAsync("/v1/completions", new { prompt = "The king said", max_tokens = 200, temperature = 0, ignore_eos = true })).Content.ReadAsStringAsync());
        Assert.Equal("stop", plain.RootElement.GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        Assert.Equal(200, ignoring.RootElement.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
    }

    [Fact]
    public async Task Logprobs_Give_Each_Token_Its_Log_Probability_And_Alternatives()
    {
        using var batcher = new ContinuousBatcher(_model, new BatcherOptions { MaxSequences = 2, ContextLength = 512 });
        await using var server = await RunningServer.Start(_model, batcher);
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        using var whole = JsonDocument.Parse(await (await http.PostAsJsonAsync("/v1/completions", new { prompt = "Once upon a time", max_tokens = 8, temperature = 0, logprobs = 2 })).Content.ReadAsStringAsync());
        var logprobs = whole.RootElement.GetProperty("choices")[0].GetProperty("logprobs");
        int completionTokens = whole.RootElement.GetProperty("usage").GetProperty("completion_tokens").GetInt32();
        Assert.Equal(completionTokens, logprobs.GetProperty("tokens").GetArrayLength());
        Assert.Equal(completionTokens, logprobs.GetProperty("token_logprobs").GetArrayLength());
        Assert.All(logprobs.GetProperty("top_logprobs").EnumerateArray(), alternatives => Assert.InRange(alternatives.EnumerateObject().Count(), 1, 2));
        Assert.Equal(0, logprobs.GetProperty("text_offset")[0].GetInt32());
        Assert.Equal(whole.RootElement.GetProperty("choices")[0].GetProperty("text").GetString(), string.Concat(logprobs.GetProperty("tokens").EnumerateArray().Select(t => t.GetString())));
    }

    [Theory]
    [InlineData("""{"prompt": "x", "logprobs": true}""", "logprobs")]
    [InlineData("""{"max_tokens": 5}""", "prompt")]
    [InlineData("""{"prompt": 42}""", "prompt")]
    [InlineData("""{"prompt": [5, -1]}""", "prompt")]
    [InlineData("""{"prompt": [5, 99999999]}""", "prompt")]
    [InlineData("""{"prompt": "x", "max_tokens": 0}""", "max_tokens")]
    public async Task Bad_Fields_Are_400_Naming_Them(string body, string field)
    {
        using var batcher = new ContinuousBatcher(_model, new BatcherOptions { MaxSequences = 1, ContextLength = 128 });
        await using var server = await RunningServer.Start(_model, batcher);
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        var response = await http.PostAsync("/v1/completions", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(field, error.RootElement.GetProperty("error").GetProperty("param").GetString());
    }
}
