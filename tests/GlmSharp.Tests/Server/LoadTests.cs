using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using GlmSharp.Models;
using GlmSharp.Serving;
using Xunit.Abstractions;

namespace GlmSharp.Tests.Server;

/// <summary>
/// `glm serve` under load on loopback: 64 concurrent streaming clients send 1,000 greedy requests, one in ten cancelled
/// mid-stream. Every request ends exactly once, every answer equals the same request served alone, and the KV cache is
/// empty at the end.
/// </summary>
[Trait("Load", "loopback")]
public sealed class LoadTests(ITestOutputHelper output) : IDisposable
{
    private static readonly string DefaultModel = Path.Combine(AppContext.BaseDirectory, "models", "glm-tiny-chat");
    private readonly LoadedModel _model = ModelLoader.Load(DefaultModel);

    public void Dispose() => _model.Dispose();

    private static readonly string[] Prompts =
    [
        "Tell me a fortune.", "Tell me something about the sea.", "Continue this text: The old man walked", "请写一首诗。", "说一句有道理的话。",
        "Tell me something about money.", "Continue this text: It was a dark night", "请背一首李白的诗。", "Tell me something about love.", "Hello!",
        "Tell me something about time.", "Continue this text: She said", "What is the weather like?", "Tell me something about cats.", "Tell me a joke.",
        "Tell me something about work.", "Continue this text: In 1960,", "Tell me something about books.", "Why?", "Tell me something about the king.",
    ];

    [Fact]
    public async Task A_Thousand_Streamed_Requests_From_64_Clients_Each_End_Once_As_Served_Alone()
    {
        const int requests = 1000, clients = 64;
        using var batcher = new ContinuousBatcher(_model, new BatcherOptions { MaxSequences = 32, ContextLength = 256, StepTokens = 256 });
        await using var server = await RunningServer.Start(_model, batcher);
        using var http = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromMinutes(5) };
        var answers = new string?[requests];
        int next = -1, cancelled = 0;
        var started = DateTime.UtcNow;
        await Task.WhenAll(Enumerable.Range(0, clients).Select(async _ =>
        {
            for (int i = Interlocked.Increment(ref next); i < requests; i = Interlocked.Increment(ref next))
            {
                bool cancel = i % 10 == 7;
                answers[i] = await Stream(http, Prompts[i % Prompts.Length], cancelAfterEvents: cancel ? 2 : null);
                if (cancel) Interlocked.Increment(ref cancelled);
            }
        }));
        output.WriteLine($"{requests} requests ({cancelled} cancelled) in {(DateTime.UtcNow - started).TotalSeconds:F1} s");

        for (int wait = 0; wait < 2000 && (batcher.Running > 0 || batcher.Waiting > 0 || batcher.CacheUse.UsedBlocks > 0); wait++) await Task.Delay(10);
        Assert.Equal(0, batcher.Running);
        Assert.Equal(0, batcher.Waiting);
        Assert.Equal(0, batcher.CacheUse.UsedBlocks);

        var alone = new Dictionary<string, string>();
        foreach (string prompt in Prompts) alone[prompt] = (await Stream(http, prompt, cancelAfterEvents: null))!;
        for (int i = 0; i < requests; i++)
            if (i % 10 != 7) Assert.Equal(alone[Prompts[i % Prompts.Length]], answers[i]);
    }

    /// <summary>The answer text of one streamed request; it must end with exactly one finish reason and one [DONE].</summary>
    private static async Task<string?> Stream(HttpClient http, string prompt, int? cancelAfterEvents)
    {
        var body = new { messages = new[] { new { role = "user", content = prompt } }, max_tokens = 12, temperature = 0, stream = true };
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = JsonContent.Create(body) };
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        response.EnsureSuccessStatusCode();
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var text = new StringBuilder();
        int events = 0, finishes = 0, done = 0;
        while (await reader.ReadLineAsync() is { } line)
        {
            if (!line.StartsWith("data: ", StringComparison.Ordinal)) continue;
            if (cancelAfterEvents is { } limit && ++events >= limit) return null;
            string data = line["data: ".Length..];
            if (data == "[DONE]")
            {
                done++;
                continue;
            }
            Assert.Equal(0, done);
            using var chunk = JsonDocument.Parse(data);
            var choice = chunk.RootElement.GetProperty("choices")[0];
            if (choice.GetProperty("delta").TryGetProperty("content", out var content)) text.Append(content.GetString());
            if (choice.GetProperty("finish_reason").ValueKind == JsonValueKind.String) finishes++;
        }
        Assert.Equal(1, finishes);
        Assert.Equal(1, done);
        return text.ToString();
    }
}
