using System.Runtime.CompilerServices;
using System.Text.Json;
using GlmSharp.Inference;
using GlmSharp.Models;
using GlmSharp.Serving;
using GlmSharp.Tokenizers;
using GlmSharp.Tokenizers.Chat;
using GlmSharp.Vision;
using Microsoft.Extensions.AI;
using AiChatMessage = Microsoft.Extensions.AI.ChatMessage;
using AiChatRole = Microsoft.Extensions.AI.ChatRole;
using GlmChatMessage = GlmSharp.Tokenizers.Chat.ChatMessage;
using GlmChatRole = GlmSharp.Tokenizers.Chat.ChatRole;

namespace GlmSharp.Server;

/// <summary>
/// Microsoft.Extensions.AI's <see cref="IChatClient"/> in process, over the same engine the server uses: the model's chat
/// template, its tools and thinking, replies split into text, <see cref="TextReasoningContent"/> and
/// <see cref="FunctionCallContent"/>, whole or streamed. <c>AdditionalProperties["enable_thinking"] = false</c> turns
/// GLM's thinking off. Images in user messages — <see cref="DataContent"/>, or <see cref="UriContent"/> naming a file under
/// the media folder, with an image/… media type — go through the vision tower as the server's image_url parts do; a
/// refused one is an <see cref="ApiError"/> naming it (<c>messages[i].contents[j]</c>).
/// </summary>
public sealed class GlmChatClient : IChatClient
{
    private readonly LoadedModel _model;
    private readonly ITextGenerationService _engine;
    private readonly BpeTokenizer _tokenizer;
    private readonly ChatClientMetadata _metadata;
    private readonly ChatImages _images;

    /// <param name="images">The vision tower for image content (none: images are refused).</param>
    /// <param name="mediaFolder">The folder image files may be read from, as <c>glm serve --media-folder</c>.</param>
    public GlmChatClient(LoadedModel model, ITextGenerationService engine, ImageEncoder? images = null, string? mediaFolder = null)
    {
        _model = model;
        _engine = engine;
        _images = new ChatImages(images, new ImageUrls(mediaFolder));
        _tokenizer = model.Tokenizer ?? throw new Errors.UnsupportedModelException($"{model.Path}: the model has no tokenizer, so it cannot chat");
        _metadata = new ChatClientMetadata("glmsharp", defaultModelId: Path.GetFileName(model.Path.TrimEnd('/')));
    }

    public async Task<ChatResponse> GetResponseAsync(IEnumerable<AiChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in GetStreamingResponseAsync(messages, options, cancellationToken)) updates.Add(update);
        return updates.ToChatResponse();
    }

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<AiChatMessage> messages, ChatOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var (conversation, tools, schemas, imageParts) = Convert(messages, options);
        bool thinking = !(options?.AdditionalProperties?.TryGetValue("enable_thinking", out var value) == true && value is false);
        var images = _images.Encode(imageParts, _engine.ContextLength);
        var prompt = ChatPrompt.Prepare(_model.ChatTemplate, _tokenizer, conversation, new ChatTemplateOptions { EnableThinking = thinking, Tools = tools }, _engine.ContextLength,
            images, _images.ImageTokenId, _model.Path);
        var parser = new GlmOutputParser(schemas, prompt.StartsInReasoning);
        string responseId = "glm-" + Guid.NewGuid().ToString("N")[..16];
        int completionTokens = 0, callIndex = 0;
        await foreach (var chunk in _engine.GenerateAsync(prompt.Rows, Generation(options), cancellationToken))
        {
            if (chunk.TokenId is not null) completionTokens++;
            var delta = parser.Append(chunk);
            ChatFinishReason? finish = chunk.Finish is not { } reason ? null
                : parser.Sent.ToolCalls.Count > 0 ? ChatFinishReason.ToolCalls
                : reason == FinishReason.Stop ? ChatFinishReason.Stop : ChatFinishReason.Length;
            var contents = new List<AIContent>();
            if (delta.Reasoning.Length > 0) contents.Add(new TextReasoningContent(delta.Reasoning));
            if (delta.Content.Length > 0) contents.Add(new TextContent(delta.Content));
            foreach (var call in delta.ToolCalls) contents.Add(new FunctionCallContent($"{responseId}-call-{callIndex++}", call.Name, Arguments(call.ArgumentsJson)));
            if (finish is not null)
                contents.Add(new UsageContent(new UsageDetails
                {
                    InputTokenCount = prompt.Length, OutputTokenCount = completionTokens, TotalTokenCount = prompt.Length + completionTokens,
                    CachedInputTokenCount = chunk.CachedPromptTokens,
                }));
            if (contents.Count == 0 && finish is null) continue;
            yield return new ChatResponseUpdate(AiChatRole.Assistant, contents) { ResponseId = responseId, FinishReason = finish, ModelId = _metadata.DefaultModelId };
        }
    }

    private GenerationOptions Generation(ChatOptions? options)
    {
        var defaults = SamplingOptions.Defaults(_model.Generation);
        var sampling = defaults with
        {
            Temperature = options?.Temperature ?? defaults.Temperature,
            TopP = options?.TopP ?? defaults.TopP,
            TopK = options?.TopK ?? defaults.TopK,
            PresencePenalty = options?.PresencePenalty ?? defaults.PresencePenalty,
            FrequencyPenalty = options?.FrequencyPenalty ?? defaults.FrequencyPenalty,
            Seed = options?.Seed is { } seed ? unchecked((int)seed) : defaults.Seed,
        };
        return new GenerationOptions
        {
            MaxTokens = options?.MaxOutputTokens ?? _engine.ContextLength,
            Sampling = sampling,
            StopStrings = options?.StopSequences?.ToArray() ?? [],
            IncludeSpecialTokens = true,
        };
    }

    private static (List<GlmChatMessage> Conversation, List<string> Tools, ToolSchemas Schemas, List<MediaPart> Images) Convert(IEnumerable<AiChatMessage> messages,
        ChatOptions? options)
    {
        var conversation = new List<GlmChatMessage>();
        var images = new List<MediaPart>();
        int index = -1;
        foreach (var message in messages)
        {
            index++;
            var role = message.Role == AiChatRole.System ? GlmChatRole.System
                : message.Role == AiChatRole.Assistant ? GlmChatRole.Assistant
                : message.Role == AiChatRole.Tool ? GlmChatRole.Tool
                : GlmChatRole.User;
            if (role == GlmChatRole.Tool)
            {
                foreach (var result in message.Contents.OfType<FunctionResultContent>())
                    conversation.Add(GlmChatMessage.Tool(result.Result switch
                    {
                        string text => text,
                        JsonElement { ValueKind: JsonValueKind.String } text => text.GetString()!,
                        var other => JsonSerializer.Serialize(other),
                    }));
                continue;
            }
            string reasoning = string.Concat(message.Contents.OfType<TextReasoningContent>().Select(r => r.Text));
            var calls = message.Contents.OfType<FunctionCallContent>().Select(c => new ChatToolCall(c.Name, JsonSerializer.Serialize(c.Arguments ?? new Dictionary<string, object?>()))).ToList();
            string content = Text(message, $"messages[{index}]", role == GlmChatRole.User ? images : null);
            conversation.Add(new GlmChatMessage(role, content, reasoning.Length > 0 ? reasoning : null, calls.Count > 0 ? calls : null));
        }
        var tools = new List<string>();
        var schemas = ToolSchemas.None;
        if (options?.Tools is { Count: > 0 } declared && options.ToolMode is not NoneChatToolMode)
        {
            var definitions = declared.OfType<AIFunctionDeclaration>().Select(f => JsonSerializer.SerializeToElement(new
            {
                type = "function",
                function = new { name = f.Name, description = f.Description, parameters = f.JsonSchema },
            })).ToArray();
            tools.AddRange(definitions.Select(TemplateJson.Serialize));
            schemas = ToolSchemas.FromOpenAiTools(JsonSerializer.SerializeToElement(definitions));
        }
        return (conversation, tools, schemas, images);
    }

    /// <summary>
    /// The message's text parts joined, with GLM's image placeholder where each image stood (its URL — a data URL for
    /// <see cref="DataContent"/> — in <paramref name="images"/>, which is null outside user messages).
    /// </summary>
    private static string Text(AiChatMessage message, string field, List<MediaPart>? images)
    {
        var text = new System.Text.StringBuilder();
        for (int i = 0; i < message.Contents.Count; i++)
        {
            string partField = $"{field}.contents[{i}]";
            string? url = message.Contents[i] switch
            {
                TextContent part => Append(part.Text),
                DataContent data when data.HasTopLevelMediaType("image") => data.Uri,
                UriContent uri when uri.HasTopLevelMediaType("image") => uri.Uri.ToString(),
                DataContent data => throw ApiError.Invalid($"{partField}: media type '{data.MediaType}' is not an image; GLM reads image/… content", partField),
                UriContent uri => throw ApiError.Invalid($"{partField}: media type '{uri.MediaType}' is not an image; GLM reads image/… content", partField),
                _ => null,
            };
            if (url is null) continue;
            if (images is null) throw ApiError.Invalid($"{partField}: images are accepted in user messages only", partField);
            images.Add(new MediaPart(url, partField));
            text.Append(ImagePrompt.Placeholder);
        }
        return text.ToString();

        string? Append(string part)
        {
            text.Append(part);
            return null;
        }
    }

    private static Dictionary<string, object?> Arguments(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.EnumerateObject().ToDictionary(p => p.Name, p => (object?)p.Value.Clone());
    }

    public object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceKey is not null ? null
        : serviceType == typeof(ChatClientMetadata) ? _metadata
        : serviceType.IsInstanceOfType(this) ? this
        : null;

    public void Dispose()
    {
    }
}
