namespace GlmSharp.Tokenizers.Chat;

/// <summary>Renders a conversation to the prompt text a GLM checkpoint was trained on (special tokens written as
/// text; encode the result with special-token parsing on, and without adding sequence tokens).</summary>
public interface IChatTemplate
{
    ChatTemplateStyle Style { get; }

    string Render(IReadOnlyList<ChatMessage> messages, ChatTemplateOptions? options = null);
}
