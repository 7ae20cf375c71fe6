using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using GlmSharp.Kernels.Cpu;
using GlmSharp.Models;
using GlmSharp.Server;
using GlmSharp.Serving;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace GlmSharp.Cli.Commands.Bench;

/// <summary>
/// One timed run of `glm serve`: the model behind the HTTP server on loopback with continuous batching, and
/// <see cref="RunSettings.Parallel"/> clients that each stream one completion of <see cref="RunSettings.Gen"/> tokens
/// for their own prompt of token ids (the ids the engine runs are fed), all sent at once. Prefill is all prompt tokens
/// over the time until the last client saw its first token; decode is the sum over clients of their token rate after
/// the first token, comparable with a batched decode's aggregate; each client's time to first token and time per
/// output token are kept for percentiles.
/// </summary>
internal static class ServeRun
{
    public static async Task<EngineResult> Run(string path, RunSettings run)
    {
        var start = Stopwatch.GetTimestamp();
        using var backend = new CpuBackend(run.Threads);
        using var loaded = ModelLoader.Load(path, backend);
        int perSequence = run.Context + CausalLm.DefaultBlockPositions;
        using var batcher = new ContinuousBatcher(loaded, new BatcherOptions
        {
            MaxSequences = run.Parallel, ContextLength = perSequence, CachePositions = run.Parallel * perSequence,
            CacheType = run.CacheType, StepTokens = Math.Max(256, run.Parallel), PrefixCacheEntries = 0,
        });
        await using var app = GlmServer.Create(loaded, batcher, new ServerOptions { Port = 0, ModelName = "bench" });
        await app.StartAsync();
        double load = Stopwatch.GetElapsedTime(start).TotalSeconds;
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        using var http = new HttpClient { BaseAddress = new Uri(address), Timeout = Timeout.InfiniteTimeSpan };

        var ids = run.TokenIds(path);
        await Complete(http, ids[0][..run.WarmupPrompt], RunSettings.WarmupDecode);
        var clients = await Task.WhenAll(ids.Select(sequence => Complete(http, sequence[..run.Prompt], run.Gen)));

        double lastFirstToken = clients.Max(c => c.FirstToken);
        return new EngineResult(run.Parallel * run.Prompt / lastFirstToken, clients.Sum(c => c.DecodeRate), load, RunSettings.PeakRssMb())
        {
            TimeToFirstTokenMs = [.. clients.Select(c => c.FirstToken * 1000)],
            TimePerOutputTokenMs = [.. clients.Select(c => 1000 / c.DecodeRate)],
        };
    }

    /// <summary>One client's view: seconds to its first token, and tokens per second after it.</summary>
    private readonly record struct ClientTiming(double FirstToken, double DecodeRate);

    private static async Task<ClientTiming> Complete(HttpClient http, int[] prompt, int tokens)
    {
        var sent = Stopwatch.GetTimestamp();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/completions")
        {
            Content = JsonContent.Create(new
            {
                prompt, max_tokens = tokens, temperature = 0, ignore_eos = true, stream = true, stream_options = new { include_usage = true },
            }),
        };
        // Read the events as they come, not once the whole stream is in.
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        response.EnsureSuccessStatusCode();
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        double first = 0, last = 0;
        int generated = 0;
        while (await reader.ReadLineAsync() is { } line)
        {
            if (!line.StartsWith("data: {", StringComparison.Ordinal)) continue;
            double now = Stopwatch.GetElapsedTime(sent).TotalSeconds;
            using var chunk = JsonDocument.Parse(line.AsMemory("data: ".Length));
            if (chunk.RootElement.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object)
                generated = usage.GetProperty("completion_tokens").GetInt32();
            else if (first == 0) first = now;
            else last = now;
        }
        if (generated != tokens) throw new Errors.GlmException($"a bench client asked for {tokens} tokens and got {generated}");
        return new ClientTiming(first, (generated - 1) / (last - first));
    }
}
