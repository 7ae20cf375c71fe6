namespace GlmSharp.Tokenizers.Chat;

/// <summary>Picks the renderer for a checkpoint from its Jinja <c>chat_template</c> text.</summary>
public static class ChatTemplates
{
    /// <summary>GLM-4.5+ templates handle <c>&lt;think&gt;</c>; GLM-4-0414's does not (Z1 only strips <c>&lt;/think&gt;</c>).</summary>
    public static ChatTemplateStyle DetectStyle(string? jinjaTemplate) =>
        jinjaTemplate is not null && jinjaTemplate.Contains("<think>", StringComparison.Ordinal)
            ? ChatTemplateStyle.Glm45
            : ChatTemplateStyle.Glm4;

    public static IChatTemplate Create(ChatTemplateStyle style, string? jinjaTemplate = null) => style switch
    {
        ChatTemplateStyle.Glm45 => new Glm45ChatTemplate(),
        _ => new Glm4ChatTemplate(stripReasoning: jinjaTemplate?.Contains("</think>", StringComparison.Ordinal) ?? false),
    };

    /// <summary>The renderer for <paramref name="jinjaTemplate"/>, or <paramref name="overrideStyle"/> when given.</summary>
    public static IChatTemplate For(string? jinjaTemplate, ChatTemplateStyle? overrideStyle = null) =>
        Create(overrideStyle ?? DetectStyle(jinjaTemplate), jinjaTemplate);
}
