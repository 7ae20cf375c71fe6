using System.Text;
using System.Text.Json;
using GlmSharp.Inference;
using GlmSharp.Serving;
using GlmSharp.Tokenizers;
using Microsoft.AspNetCore.Http;

namespace GlmSharp.Server;

/// <summary>
/// <c>POST /v1/completions</c>: a raw prompt continued (no chat template, special tokens in the prompt are read as
/// such), whole or as server-sent events, in OpenAI's text_completion shape.
/// </summary>
internal sealed class TextCompletions(ITextGenerationService engine, BpeTokenizer tokenizer, SamplingOptions defaults, ServerOptions options, ServerMetrics metrics)
{
    /// <summary>OpenAI's default for this endpoint.</summary>
    private const int DefaultMaxTokens = 16;

    public async Task Handle(HttpContext http, JsonElement body)
    {
        if (body.ValueKind != JsonValueKind.Object) throw ApiError.Invalid("the request body must be a JSON object");
        var generation = GenerationFields.Parse(body, defaults, engine.ContextLength, DefaultMaxTokens, specialTokensAsText: false)
            with { TopLogprobs = GenerationFields.CompletionLogprobs(body) };
        var logprobs = generation.TopLogprobs is null ? null : new LogprobsJson(tokenizer);
        var (choices, stream, includeUsage) = GenerationFields.Delivery(body);
        var tokens = PromptTokens(body);
        if (tokens.Length == 0) throw ApiError.Invalid("'prompt' is empty", "prompt");
        if (tokens.Length >= engine.ContextLength)
            throw new ApiError(400, "exceed_context_size_error", $"the prompt has {tokens.Length} tokens, the context holds {engine.ContextLength}; shorten the prompt", "prompt");
        string id = "cmpl-" + Guid.NewGuid().ToString("N")[..24];
        long created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var streams = Enumerable.Range(0, choices).Select(i =>
            engine.GenerateAsync(tokens, generation with { Sampling = generation.Sampling with { Seed = generation.Sampling.Seed + i } }, http.RequestAborted)).ToArray();
        var texts = new StringBuilder[choices];
        var finishes = new string[choices];
        var scores = new List<ScoredToken>[choices];
        int completionTokens = 0, cachedPromptTokens = 0;
        if (stream)
        {
            OpenAiJson.BeginEvents(http);
        }
        for (int i = 0; i < choices; i++)
        {
            texts[i] = new StringBuilder();
            scores[i] = [];
            int unsent = 0, sentText = 0;
            await foreach (var chunk in streams[i].WithCancellation(http.RequestAborted))
            {
                if (chunk.TokenId is not null) completionTokens++;
                if (chunk is { TokenId: { } token, Logprobs: { } scored }) scores[i].Add(new ScoredToken(token, scored));
                texts[i].Append(chunk.Text);
                if (chunk.Finish is { } finish)
                {
                    finishes[i] = finish == FinishReason.Stop ? "stop" : "length";
                    if (i == 0) cachedPromptTokens = chunk.CachedPromptTokens;
                }
                if (stream && (chunk.Text.Length > 0 || chunk.Finish is not null))
                {
                    // A token whose text the stop-string filter holds back is scored in the event that shows its text.
                    var eventScores = scores[i][unsent..];
                    int offset = sentText;
                    await OpenAiJson.Event(http, OpenAiJson.Object(w => Body(w, id, created, [new Choice(i, chunk.Text, finishes[i], eventScores, offset)], logprobs)));
                    unsent = scores[i].Count;
                    sentText = texts[i].Length;
                }
            }
        }
        if (stream)
        {
            if (includeUsage) await OpenAiJson.Event(http, OpenAiJson.Object(w => { Body(w, id, created, [], logprobs); OpenAiJson.Usage(w, tokens.Length, completionTokens, cachedPromptTokens); }));
            await OpenAiJson.Done(http);
        }
        else
        {
            http.Response.ContentType = "application/json";
            await http.Response.Body.WriteAsync(OpenAiJson.Object(w =>
            {
                Body(w, id, created, [.. Enumerable.Range(0, choices).Select(i => new Choice(i, texts[i].ToString(), finishes[i], scores[i], 0))], logprobs);
                OpenAiJson.Usage(w, tokens.Length, completionTokens, cachedPromptTokens);
            }), http.RequestAborted);
        }
        metrics.Request("completions", "ok");
    }

    /// <summary>The prompt as text (a string, or an array of one) or as token ids, as OpenAI's API takes it.</summary>
    private int[] PromptTokens(JsonElement body)
    {
        if (!body.TryGetProperty("prompt", out var prompt)) throw ApiError.Invalid("'prompt' is required", "prompt");
        if (prompt.ValueKind == JsonValueKind.String) return tokenizer.Encode(prompt.GetString()!);
        if (prompt.ValueKind == JsonValueKind.Array && prompt.GetArrayLength() == 1 && prompt[0].ValueKind == JsonValueKind.String) return tokenizer.Encode(prompt[0].GetString()!);
        if (prompt.ValueKind == JsonValueKind.Array && prompt.EnumerateArray().All(IsTokenId)) return [.. prompt.EnumerateArray().Select(id => id.GetInt32())];
        throw ApiError.Invalid($"'prompt' must be a string, an array of one string, or an array of token ids from 0 to {tokenizer.VocabSize - 1}", "prompt");
    }

    private bool IsTokenId(JsonElement id) => id.ValueKind == JsonValueKind.Number && id.TryGetInt32(out int value) && value >= 0 && value < tokenizer.VocabSize;

    /// <summary>One choice in a response or stream event: its text, and the scored tokens behind it, starting at <paramref name="TextOffset"/>.</summary>
    private readonly record struct Choice(int Index, string Text, string? Finish, IReadOnlyList<ScoredToken> Scores, int TextOffset);

    private void Body(Utf8JsonWriter w, string id, long created, IEnumerable<Choice> choices, LogprobsJson? logprobs)
    {
        w.WriteString("id", id);
        w.WriteString("object", "text_completion");
        w.WriteNumber("created", created);
        w.WriteString("model", options.ModelName);
        w.WriteStartArray("choices");
        foreach (var choice in choices)
        {
            w.WriteStartObject();
            w.WriteNumber("index", choice.Index);
            w.WriteString("text", choice.Text);
            if (logprobs is null) w.WriteNull("logprobs");
            else logprobs.WriteCompletion(w, choice.Scores, choice.TextOffset);
            if (choice.Finish is null) w.WriteNull("finish_reason");
            else w.WriteString("finish_reason", choice.Finish);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }
}
