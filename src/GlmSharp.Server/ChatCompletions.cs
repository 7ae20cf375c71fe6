using System.Text.Json;
using GlmSharp.Inference;
using GlmSharp.Serving;
using GlmSharp.Tokenizers;
using GlmSharp.Tokenizers.Chat;
using Microsoft.AspNetCore.Http;

namespace GlmSharp.Server;

/// <summary>
/// <c>POST /v1/chat/completions</c>: renders the conversation with the model's chat template, generates through the
/// shared batcher, and splits the reply into reasoning, content and tool calls (<see cref="GlmOutputParser"/>), whole
/// or as server-sent events.
/// </summary>
internal sealed class ChatCompletions(ITextGenerationService engine, BpeTokenizer tokenizer, IChatTemplate template, SamplingOptions defaults, ServerOptions options,
    ServerMetrics metrics, ChatImages images, string modelOrigin)
{
    public async Task Handle(HttpContext http, JsonElement body)
    {
        var request = ChatRequest.Parse(body, defaults, engine.ContextLength);
        var encoded = images.Encode(request.Images, engine.ContextLength);
        var videos = images.EncodeVideos(request.Videos, engine.ContextLength);
        ChatPrompt prompt;
        try
        {
            prompt = ChatPrompt.Prepare(template, tokenizer, request.Messages,
                new ChatTemplateOptions { EnableThinking = request.EnableThinking, Tools = request.ToolDefinitions }, engine.ContextLength,
                encoded, images.ImageTokenId, modelOrigin, videos);
        }
        catch (JsonException e)
        {
            throw ApiError.Invalid($"a tool call's arguments could not be read: {e.Message}", "messages");
        }
        catch (Vision.ImageInputException e)
        {
            throw ApiError.Invalid(e.Message, "messages");
        }
        var rows = prompt.Rows;
        string id = "chatcmpl-" + Guid.NewGuid().ToString("N")[..24];
        long created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var replies = Enumerable.Range(0, request.Choices).Select(i => new Reply(
            engine.GenerateAsync(rows, request.Generation with { Sampling = request.Generation.Sampling with { Seed = request.Generation.Sampling.Seed + i } }, http.RequestAborted),
            new GlmOutputParser(request.Tools, prompt.StartsInReasoning))).ToArray();
        var started = System.Diagnostics.Stopwatch.StartNew();
        var writer = new ChatCompletionWriter(id, created, options.ModelName, request.Generation.TopLogprobs is null ? null : new LogprobsJson(tokenizer));
        if (request.Stream) await Stream(http, writer, replies, rows.Length, request.IncludeUsage);
        else
        {
            foreach (var reply in replies) await reply.RunToEnd(http.RequestAborted);
            http.Response.ContentType = "application/json";
            await http.Response.Body.WriteAsync(writer.Completion(replies, rows.Length), http.RequestAborted);
        }
        foreach (var reply in replies) metrics.Generation(rows.Length, reply.CompletionTokens, reply.FirstToken ?? started.Elapsed, started.Elapsed);
        metrics.Request("chat", "ok");
    }

    private static async Task Stream(HttpContext http, ChatCompletionWriter writer, Reply[] replies, int promptTokens, bool includeUsage)
    {
        OpenAiJson.BeginEvents(http);
        var cancel = http.RequestAborted;
        for (int i = 0; i < replies.Length; i++)
        {
            await OpenAiJson.Event(http, writer.RoleChunk(i));
            var reply = replies[i];
            await foreach (var chunk in reply.Tokens.WithCancellation(cancel))
            {
                var delta = reply.Take(chunk);
                // Log-probabilities of tokens the parser holds back wait for the delta (or the finish) that shows them.
                if (!delta.IsEmpty) await OpenAiJson.Event(http, writer.DeltaChunk(i, delta, reply.CallsSent - delta.ToolCalls.Count, reply.TakeUnsentScores()));
                if (chunk.Finish is not null) await OpenAiJson.Event(http, writer.FinishChunk(i, reply.FinishReason, reply.TakeUnsentScores()));
            }
        }
        if (includeUsage) await OpenAiJson.Event(http, writer.UsageChunk(replies, promptTokens));
        await OpenAiJson.Done(http);
    }
}

/// <summary>One choice being generated: its token stream, its parser, and how it ended.</summary>
internal sealed class Reply(IAsyncEnumerable<GenerationChunk> tokens, GlmOutputParser parser)
{
    public IAsyncEnumerable<GenerationChunk> Tokens { get; } = tokens;
    public GlmOutputParser Parser { get; } = parser;
    public int CompletionTokens { get; private set; }

    /// <summary>Prompt tokens the engine took from its prefix cache (known once the reply ends).</summary>
    public int CachedPromptTokens { get; private set; }

    public int CallsSent => Parser.Sent.ToolCalls.Count;

    /// <summary>Every generated token with its log-probabilities, when the request asked for them.</summary>
    public List<ScoredToken> Scores { get; } = [];
    private int _scoresSent;
    public string FinishReason { get; private set; } = "stop";

    private readonly System.Diagnostics.Stopwatch _clock = System.Diagnostics.Stopwatch.StartNew();

    /// <summary>When the first token came, from when the reply was asked for.</summary>
    public TimeSpan? FirstToken { get; private set; }

    public OutputDelta Take(GenerationChunk chunk)
    {
        if (chunk.TokenId is not null && CompletionTokens++ == 0) FirstToken = _clock.Elapsed;
        if (chunk is { TokenId: { } token, Logprobs: { } logprobs }) Scores.Add(new ScoredToken(token, logprobs));
        var delta = Parser.Append(chunk);
        if (chunk.Finish is { } finish)
        {
            CachedPromptTokens = chunk.CachedPromptTokens;
            FinishReason = Parser.Sent.ToolCalls.Count > 0 ? "tool_calls" : finish == Inference.FinishReason.Stop ? "stop" : "length";
        }
        return delta;
    }

    /// <summary>The scored tokens no stream chunk has carried yet.</summary>
    public IReadOnlyList<ScoredToken> TakeUnsentScores()
    {
        var unsent = Scores[_scoresSent..];
        _scoresSent = Scores.Count;
        return unsent;
    }

    public async Task RunToEnd(CancellationToken cancel)
    {
        await foreach (var chunk in Tokens.WithCancellation(cancel)) Take(chunk);
    }
}
