using System.Text.Json;
using GlmSharp.Inference;
using GlmSharp.Serving;
using GlmSharp.Tokenizers.Chat;
using GlmSharp.Vision;

namespace GlmSharp.Server;

/// <summary>
/// A checked <c>POST /v1/chat/completions</c> body: the conversation, the tools, and how to generate. The
/// <c>image_url</c> and <c>video_url</c> parts of user messages become GLM's image or video placeholder in the message
/// text and an entry of <see cref="Images"/> or <see cref="Videos"/>, in the order the template writes them.
/// </summary>
internal sealed record ChatRequest(
    IReadOnlyList<ChatMessage> Messages, IReadOnlyList<string> ToolDefinitions, ToolSchemas Tools, GenerationOptions Generation,
    int Choices, bool Stream, bool IncludeUsage, bool EnableThinking, IReadOnlyList<MediaPart> Images, IReadOnlyList<MediaPart> Videos)
{
    /// <summary>Reads the body; every field that is present must be valid, and the error names it.</summary>
    public static ChatRequest Parse(JsonElement body, SamplingOptions defaults, int contextLength)
    {
        if (body.ValueKind != JsonValueKind.Object) throw ApiError.Invalid("the request body must be a JSON object");
        if (!body.TryGetProperty("messages", out var messages) || messages.ValueKind != JsonValueKind.Array || messages.GetArrayLength() == 0)
            throw ApiError.Invalid("'messages' must be a non-empty array", "messages");

        bool useTools = !(body.TryGetProperty("tool_choice", out var choice) && choice.ValueKind == JsonValueKind.String && choice.GetString() == "none");
        var toolDefinitions = new List<string>();
        var schemas = ToolSchemas.None;
        if (body.TryGetProperty("tools", out var tools) && tools.ValueKind != JsonValueKind.Null)
        {
            if (tools.ValueKind != JsonValueKind.Array) throw ApiError.Invalid("'tools' must be an array", "tools");
            foreach (var tool in tools.EnumerateArray())
                if (tool.ValueKind != JsonValueKind.Object || !tool.TryGetProperty("function", out var f) || f.ValueKind != JsonValueKind.Object || !f.TryGetProperty("name", out var toolName) || toolName.ValueKind != JsonValueKind.String)
                    throw ApiError.Invalid("every tool must be {\"type\": \"function\", \"function\": {\"name\": …}}", "tools");
            if (useTools)
            {
                schemas = ToolSchemas.FromOpenAiTools(tools);
                toolDefinitions.AddRange(tools.EnumerateArray().Select(TemplateJson.Serialize));
            }
        }

        bool json = JsonObjectFormat(body);
        var generation = GenerationFields.Parse(body, defaults, contextLength, defaultMaxTokens: contextLength, specialTokensAsText: true)
            with { TopLogprobs = GenerationFields.ChatLogprobs(body), JsonObject = json };
        var (n, stream, includeUsage) = GenerationFields.Delivery(body);
        var media = new Media([], []);
        var conversation = messages.EnumerateArray().Select((m, i) => Message(m, i, media)).ToArray();
        // The object is the whole reply, so a JSON reply is asked for without thinking first.
        return new ChatRequest(conversation, toolDefinitions, schemas, generation, n, stream, includeUsage, !json && Thinking(body), media.Images, media.Videos);
    }

    /// <summary>Whether <c>response_format</c> asks for a JSON object (enforced while sampling) rather than text.</summary>
    private static bool JsonObjectFormat(JsonElement body)
    {
        if (!body.TryGetProperty("response_format", out var format) || format.ValueKind == JsonValueKind.Null) return false;
        if (format.ValueKind == JsonValueKind.Object && format.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String && type.GetString() is "text" or "json_object")
            return type.GetString() == "json_object";
        throw ApiError.Invalid("'response_format' must be {\"type\": \"text\"} or {\"type\": \"json_object\"}", "response_format");
    }

    /// <summary>GLM's switches: <c>thinking: {"type": "disabled"}</c>, <c>enable_thinking</c>, or the template argument of the same name.</summary>
    private static bool Thinking(JsonElement body)
    {
        if (body.TryGetProperty("thinking", out var thinking) && thinking.ValueKind == JsonValueKind.Object && thinking.TryGetProperty("type", out var type))
            return (type.ValueKind == JsonValueKind.String ? type.GetString() : null) switch
            {
                "enabled" => true,
                "disabled" => false,
                _ => throw ApiError.Invalid("'thinking.type' must be \"enabled\" or \"disabled\"", "thinking"),
            };
        if (GenerationFields.Bool(body, "enable_thinking") is { } enabled) return enabled;
        if (body.TryGetProperty("chat_template_kwargs", out var kwargs) && kwargs.ValueKind == JsonValueKind.Object && GenerationFields.Bool(kwargs, "enable_thinking") is { } templateEnabled)
            return templateEnabled;
        if (body.TryGetProperty("reasoning_effort", out var effort) && effort.ValueKind == JsonValueKind.String)
            return effort.GetString() switch
            {
                "none" => false,
                "minimal" or "low" or "medium" or "high" => true,
                _ => throw ApiError.Invalid("'reasoning_effort' must be none, minimal, low, medium or high", "reasoning_effort"),
            };
        return true;
    }

    /// <summary>The media parts of the user messages so far, in order.</summary>
    private sealed record Media(List<MediaPart> Images, List<MediaPart> Videos);

    private static ChatMessage Message(JsonElement m, int index, Media media)
    {
        string field = $"messages[{index}]";
        if (m.ValueKind != JsonValueKind.Object || !m.TryGetProperty("role", out var roleValue) || roleValue.ValueKind != JsonValueKind.String)
            throw ApiError.Invalid($"{field} must be an object with a 'role'", field);
        var role = roleValue.GetString() switch
        {
            "system" or "developer" => ChatRole.System,
            "user" => ChatRole.User,
            "assistant" => ChatRole.Assistant,
            "tool" => ChatRole.Tool,
            var other => throw ApiError.Invalid($"{field}.role '{other}' is not one of system, user, assistant, tool", field + ".role"),
        };
        string content = Content(m, field, role == ChatRole.User ? media : null);
        string? reasoning = m.TryGetProperty("reasoning_content", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString() : null;
        List<ChatToolCall>? calls = null;
        if (role == ChatRole.Assistant && m.TryGetProperty("tool_calls", out var toolCalls) && toolCalls.ValueKind == JsonValueKind.Array)
        {
            calls = [];
            foreach (var call in toolCalls.EnumerateArray())
            {
                if (call.ValueKind != JsonValueKind.Object || !call.TryGetProperty("function", out var function) || function.ValueKind != JsonValueKind.Object
                    || !function.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String)
                    throw ApiError.Invalid($"{field}.tool_calls: every call needs function.name", field + ".tool_calls");
                string arguments = function.TryGetProperty("arguments", out var a) && a.ValueKind == JsonValueKind.String ? a.GetString()! : "{}";
                try
                {
                    using var parsed = JsonDocument.Parse(arguments.Length == 0 ? "{}" : arguments);
                    if (parsed.RootElement.ValueKind != JsonValueKind.Object) throw new JsonException();
                }
                catch (JsonException)
                {
                    throw ApiError.Invalid($"{field}.tool_calls: the arguments of '{name.GetString()}' are not a JSON object", field + ".tool_calls");
                }
                calls.Add(new ChatToolCall(name.GetString()!, arguments.Length == 0 ? "{}" : arguments));
            }
        }
        return new ChatMessage(role, content, reasoning, calls);
    }

    /// <summary>
    /// A string, or an array of parts: text parts are joined, and in a user message each <c>image_url</c> or
    /// <c>video_url</c> part leaves GLM's image or video placeholder where it stood and its URL in <paramref name="media"/>.
    /// Null or absent is empty.
    /// </summary>
    private static string Content(JsonElement m, string field, Media? media)
    {
        if (!m.TryGetProperty("content", out var content) || content.ValueKind == JsonValueKind.Null) return "";
        if (content.ValueKind == JsonValueKind.String) return content.GetString()!;
        if (content.ValueKind != JsonValueKind.Array) throw ApiError.Invalid($"{field}.content must be a string or an array of parts", field + ".content");
        var text = new System.Text.StringBuilder();
        int index = 0;
        foreach (var part in content.EnumerateArray())
        {
            string partField = $"{field}.content[{index++}]";
            if (part.ValueKind != JsonValueKind.Object || !part.TryGetProperty("type", out var type)) throw ApiError.Invalid($"{field}.content: every part needs a type", field + ".content");
            string? kind = type.ValueKind == JsonValueKind.String ? type.GetString() : null;
            if (kind is "image_url" or "video_url")
            {
                if (media is null) throw ApiError.Invalid($"{partField}: image and video parts are accepted in user messages only", partField);
                var url = new MediaPart(MediaUrl(part, partField, kind), $"{partField}.{kind}");
                (kind == "image_url" ? media.Images : media.Videos).Add(url);
                text.Append(kind == "image_url" ? ImagePrompt.Placeholder : VideoPrompt.Placeholder);
                continue;
            }
            if (kind != "text" || !part.TryGetProperty("text", out var partText) || partText.ValueKind != JsonValueKind.String)
                throw ApiError.Invalid($"{field}.content: only text, image_url and video_url parts are supported", field + ".content");
            text.Append(partText.GetString());
        }
        return text.ToString();
    }

    /// <summary>OpenAI's <c>{"image_url": {"url": …}}</c> (and the same shape for <c>video_url</c>), or the bare string some clients send.</summary>
    private static string MediaUrl(JsonElement part, string field, string kind)
    {
        if (part.TryGetProperty(kind, out var value))
        {
            if (value.ValueKind == JsonValueKind.String) return value.GetString()!;
            if (value.ValueKind == JsonValueKind.Object && value.TryGetProperty("url", out var url) && url.ValueKind == JsonValueKind.String) return url.GetString()!;
        }
        throw ApiError.Invalid($"{field}.{kind} must be {{\"url\": \"…\"}}", $"{field}.{kind}");
    }
}

/// <summary>One <c>image_url</c> or <c>video_url</c> of a request: its URL and the field it came from, for errors.</summary>
internal sealed record MediaPart(string Url, string Field);
