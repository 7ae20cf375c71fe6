using System.Text;

namespace GlmSharp.Tokenizers.Chat;

/// <summary>
/// GLM-4-0414's template: <c>[gMASK]&lt;sop&gt;</c>, then every system message as <c>&lt;|system|&gt;\n{content}</c>,
/// then the other turns in order as <c>&lt;|role|&gt;\n{content}</c> (tool results as <c>&lt;|observation|&gt;</c>),
/// then <c>&lt;|assistant|&gt;</c> as the generation prompt. Z1 checkpoints keep only what follows the last
/// <c>&lt;/think&gt;</c> of an assistant turn (<paramref name="stripReasoning"/>).
/// </summary>
public sealed class Glm4ChatTemplate(bool stripReasoning = false) : IChatTemplate
{
    public ChatTemplateStyle Style => ChatTemplateStyle.Glm4;

    public string Render(IReadOnlyList<ChatMessage> messages, ChatTemplateOptions? options = null)
    {
        options ??= new();
        var sb = new StringBuilder("[gMASK]<sop>");
        foreach (var m in messages.Where(m => m.Role == ChatRole.System))
            sb.Append("<|system|>\n").Append(m.Content);
        foreach (var m in messages.Where(m => m.Role != ChatRole.System))
        {
            switch (m.Role)
            {
                case ChatRole.User:
                    sb.Append("<|user|>\n").Append(m.Content);
                    break;
                case ChatRole.Assistant:
                    sb.Append("<|assistant|>\n").Append(stripReasoning ? AfterLastThink(m.Content) : m.Content);
                    break;
                default:
                    sb.Append("<|observation|>\n").Append(m.Content);
                    break;
            }
        }
        if (options.AddGenerationPrompt) sb.Append("<|assistant|>");
        return sb.ToString();
    }

    private static string AfterLastThink(string content)
    {
        int end = content.LastIndexOf("</think>", StringComparison.Ordinal);
        return end < 0 ? content : content[(end + "</think>".Length)..].Trim();
    }
}
