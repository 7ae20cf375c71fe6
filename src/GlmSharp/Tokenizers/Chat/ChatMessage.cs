namespace GlmSharp.Tokenizers.Chat;

public enum ChatRole
{
    System,
    User,
    Assistant,
    /// <summary>A tool result. GLM-4 templates write it as <c>&lt;|observation|&gt;</c>; <see cref="Tool"/> is the same turn.</summary>
    Observation,
    Tool,
}

/// <summary>One turn of a conversation. <paramref name="Reasoning"/> is an assistant's thinking (GLM-4.5+
/// <c>reasoning_content</c>); when null it is taken from a <c>&lt;think&gt;…&lt;/think&gt;</c> prefix of the content.
/// <paramref name="ToolCalls"/> are the functions an assistant turn called.</summary>
public sealed record ChatMessage(ChatRole Role, string Content, string? Reasoning = null, IReadOnlyList<ChatToolCall>? ToolCalls = null)
{
    public static ChatMessage System(string content) => new(ChatRole.System, content);
    public static ChatMessage User(string content) => new(ChatRole.User, content);
    public static ChatMessage Assistant(string content, string? reasoning = null) => new(ChatRole.Assistant, content, reasoning);
    public static ChatMessage Tool(string content) => new(ChatRole.Tool, content);
}

/// <summary>A function an assistant called: its name and its arguments as a JSON object.</summary>
public sealed record ChatToolCall(string Name, string ArgumentsJson);
