using System.Text.Json;
using GlmSharp.Serving;

namespace GlmSharp.Server;

/// <summary>The JSON of chat completion responses and stream chunks, in OpenAI's shapes (reasoning as <c>reasoning_content</c>).</summary>
/// <param name="logprobs">How to write log-probabilities; null when the request did not ask for them.</param>
internal sealed class ChatCompletionWriter(string id, long created, string model, LogprobsJson? logprobs)
{
    public byte[] Completion(IReadOnlyList<Reply> replies, int promptTokens) => OpenAiJson.Object(w =>
    {
        Header(w, "chat.completion");
        w.WriteStartArray("choices");
        for (int i = 0; i < replies.Count; i++)
        {
            var sent = replies[i].Parser.Sent;
            w.WriteStartObject();
            w.WriteNumber("index", i);
            w.WriteStartObject("message");
            w.WriteString("role", "assistant");
            if (sent.Content.Length > 0 || sent.ToolCalls.Count == 0) w.WriteString("content", sent.Content);
            else w.WriteNull("content");
            if (sent.Reasoning.Length > 0) w.WriteString("reasoning_content", sent.Reasoning);
            if (sent.ToolCalls.Count > 0) ToolCalls(w, sent.ToolCalls, 0, i);
            w.WriteEndObject();
            w.WriteString("finish_reason", replies[i].FinishReason);
            Logprobs(w, replies[i].Scores);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        OpenAiJson.Usage(w, promptTokens, replies.Sum(r => r.CompletionTokens), replies[0].CachedPromptTokens);
    });

    public byte[] RoleChunk(int choice) => Chunk(choice, w => w.WriteString("role", "assistant"), null, []);

    public byte[] DeltaChunk(int choice, OutputDelta delta, int firstCallIndex, IReadOnlyList<ScoredToken> scores) => Chunk(choice, w =>
    {
        if (delta.Reasoning.Length > 0) w.WriteString("reasoning_content", delta.Reasoning);
        if (delta.Content.Length > 0) w.WriteString("content", delta.Content);
        if (delta.ToolCalls.Count > 0) ToolCalls(w, delta.ToolCalls, firstCallIndex, choice);
    }, null, scores);

    public byte[] FinishChunk(int choice, string reason, IReadOnlyList<ScoredToken> scores) => Chunk(choice, _ => { }, reason, scores);

    public byte[] UsageChunk(IReadOnlyList<Reply> replies, int promptTokens) => OpenAiJson.Object(w =>
    {
        Header(w, "chat.completion.chunk");
        w.WriteStartArray("choices");
        w.WriteEndArray();
        OpenAiJson.Usage(w, promptTokens, replies.Sum(r => r.CompletionTokens), replies[0].CachedPromptTokens);
    });

    private byte[] Chunk(int choice, Action<Utf8JsonWriter> delta, string? finishReason, IReadOnlyList<ScoredToken> scores) => OpenAiJson.Object(w =>
    {
        Header(w, "chat.completion.chunk");
        w.WriteStartArray("choices");
        w.WriteStartObject();
        w.WriteNumber("index", choice);
        w.WriteStartObject("delta");
        delta(w);
        w.WriteEndObject();
        if (finishReason is null) w.WriteNull("finish_reason");
        else w.WriteString("finish_reason", finishReason);
        Logprobs(w, scores);
        w.WriteEndObject();
        w.WriteEndArray();
    });

    private void Logprobs(Utf8JsonWriter w, IReadOnlyList<ScoredToken> scores)
    {
        if (logprobs is null) w.WriteNull("logprobs");
        else logprobs.WriteChat(w, scores);
    }

    private void Header(Utf8JsonWriter w, string kind)
    {
        w.WriteString("id", id);
        w.WriteString("object", kind);
        w.WriteNumber("created", created);
        w.WriteString("model", model);
    }

    private void ToolCalls(Utf8JsonWriter w, IReadOnlyList<ParsedToolCall> calls, int firstIndex, int choice)
    {
        w.WriteStartArray("tool_calls");
        for (int c = 0; c < calls.Count; c++)
        {
            w.WriteStartObject();
            w.WriteNumber("index", firstIndex + c);
            w.WriteString("id", $"call_{id[^12..]}_{choice}_{firstIndex + c}");
            w.WriteString("type", "function");
            w.WriteStartObject("function");
            w.WriteString("name", calls[c].Name);
            w.WriteString("arguments", calls[c].ArgumentsJson);
            w.WriteEndObject();
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }
}
