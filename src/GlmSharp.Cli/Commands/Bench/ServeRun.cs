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
/// over the time until the last client saw its first token. Decode is the tokens all clients received while every one
/// of them was decoding (from the last first token to the first last token) over that time: the steady state a
/// batched decode measures, without the steps that also carried other clients' prompt chunks. Each client's time to
/// first token and time per output token (which do include those steps) are kept for percentiles.
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
        await Complete(http, ids[0][..run.WarmupPrompt], RunSettings.WarmupDecode, Stopwatch.GetTimestamp());
        var sent = Stopwatch.GetTimestamp();
        var clients = await Task.WhenAll(ids.Select(sequence => Complete(http, sequence[..run.Prompt], run.Gen, sent)));

        double allDecoding = clients.Max(c => c.Tokens[0]), firstDone = clients.Min(c => c.Tokens[^1]);
        if (firstDone <= allDecoding)
            throw new Errors.GlmException($"--gen {run.Gen}: a client finished before the last one had its first token; give more tokens to decode");
        int steady = clients.Sum(c => c.Tokens.Count(t => t > allDecoding && t <= firstDone));
        return new EngineResult(run.Parallel * run.Prompt / allDecoding, steady / (firstDone - allDecoding), load, RunSettings.PeakRssMb())
        {
            TimeToFirstTokenMs = [.. clients.Select(c => c.Tokens[0] * 1000)],
            TimePerOutputTokenMs = [.. clients.Select(c => (c.Tokens[^1] - c.Tokens[0]) * 1000 / (c.Tokens.Length - 1))],
        };
    }

    /// <summary>One client's view: when each of its tokens arrived, in seconds from when the clients were started.</summary>
    private readonly record struct ClientTiming(double[] Tokens);

    /// <param name="sent">The clock the arrival times count from.</param>
    private static async Task<ClientTiming> Complete(HttpClient http, int[] prompt, int tokens, long sent)
    {
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
        var arrivals = new List<double>();
        int generated = 0;
        while (await reader.ReadLineAsync() is { } line)
        {
            if (!line.StartsWith("data: {", StringComparison.Ordinal)) continue;
            double now = Stopwatch.GetElapsedTime(sent).TotalSeconds;
            using var chunk = JsonDocument.Parse(line.AsMemory("data: ".Length));
            if (chunk.RootElement.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object)
                generated = usage.GetProperty("completion_tokens").GetInt32();
            else if (chunk.RootElement.GetProperty("choices")[0].GetProperty("text").GetString() is { Length: > 0 }) arrivals.Add(now);
        }
        if (generated != tokens) throw new Errors.GlmException($"a bench client asked for {tokens} tokens and got {generated}");
        return new ClientTiming([.. arrivals]);
    }
}
