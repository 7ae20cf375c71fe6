using System.Text;

namespace GlmSharp.Tokenizers.Chat;

/// <summary>
/// GLM-4.5/4.6's template: <c>[gMASK]&lt;sop&gt;</c>; with tools, a <c>&lt;|system|&gt;</c> block that lists them one
/// JSON per line and describes the XML call format; system <c>&lt;|system|&gt;\n{c}</c>;
/// user <c>&lt;|user|&gt;\n{c}</c> plus <c>/nothink</c> when thinking is off; assistant <c>&lt;|assistant|&gt;</c> then
/// <c>\n&lt;think&gt;{reasoning}&lt;/think&gt;</c> for turns after the last user message that carry reasoning, otherwise an
/// empty <c>\n&lt;think&gt;&lt;/think&gt;</c>, then <c>\n{content}</c> if non-blank; a run of tool results gets one
/// <c>&lt;|observation|&gt;</c> and a <c>\n&lt;tool_response&gt;\n{c}\n&lt;/tool_response&gt;</c> each. An assistant's
/// tool calls follow its content as <c>\n&lt;tool_call&gt;{name}\n&lt;arg_key&gt;k&lt;/arg_key&gt;\n&lt;arg_value&gt;v&lt;/arg_value&gt;\n…&lt;/tool_call&gt;</c>,
/// a string value as it is and any other as JSON.
/// </summary>
public sealed class Glm45ChatTemplate : IChatTemplate
{
    private const string NoThink = "/nothink";

    public ChatTemplateStyle Style => ChatTemplateStyle.Glm45;

    public string Render(IReadOnlyList<ChatMessage> messages, ChatTemplateOptions? options = null)
    {
        options ??= new();
        int lastUser = -1;
        for (int i = 0; i < messages.Count; i++) if (messages[i].Role == ChatRole.User) lastUser = i;

        var sb = new StringBuilder("[gMASK]<sop>");
        if (options.Tools.Count > 0)
        {
            sb.Append("<|system|>\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\n")
              .Append("You are provided with function signatures within <tools></tools> XML tags:\n<tools>\n");
            foreach (string tool in options.Tools) sb.Append(tool).Append('\n');
            sb.Append("</tools>\n\nFor each function call, output the function name and arguments within the following XML format:\n")
              .Append("<tool_call>{function-name}\n<arg_key>{arg-key-1}</arg_key>\n<arg_value>{arg-value-1}</arg_value>\n")
              .Append("<arg_key>{arg-key-2}</arg_key>\n<arg_value>{arg-value-2}</arg_value>\n...\n</tool_call>");
        }
        for (int i = 0; i < messages.Count; i++)
        {
            var m = messages[i];
            switch (m.Role)
            {
                case ChatRole.System:
                    sb.Append("<|system|>\n").Append(m.Content);
                    break;
                case ChatRole.User:
                    sb.Append("<|user|>\n").Append(m.Content);
                    if (!options.EnableThinking && !m.Content.EndsWith(NoThink, StringComparison.Ordinal)) sb.Append(NoThink);
                    break;
                case ChatRole.Assistant:
                    AppendAssistant(sb, m, showReasoning: i > lastUser);
                    break;
                default:
                    bool runStart = i == 0 || !IsToolResult(messages[i - 1].Role);
                    if (runStart) sb.Append("<|observation|>");
                    sb.Append("\n<tool_response>\n").Append(m.Content).Append("\n</tool_response>");
                    break;
            }
        }
        if (options.AddGenerationPrompt)
        {
            sb.Append("<|assistant|>");
            if (!options.EnableThinking) sb.Append("\n<think></think>");
        }
        return sb.ToString();
    }

    private static bool IsToolResult(ChatRole role) => role is ChatRole.Tool or ChatRole.Observation;

    private static void AppendAssistant(StringBuilder sb, ChatMessage m, bool showReasoning)
    {
        string content = m.Content;
        string reasoning = m.Reasoning ?? "";
        if (m.Reasoning is null)
        {
            int close = content.IndexOf("</think>", StringComparison.Ordinal);
            if (close >= 0)
            {
                string before = content[..close].TrimEnd('\n');
                int open = before.LastIndexOf("<think>", StringComparison.Ordinal);
                reasoning = (open >= 0 ? before[(open + "<think>".Length)..] : before).TrimStart('\n');
                content = content[(content.LastIndexOf("</think>", StringComparison.Ordinal) + "</think>".Length)..].TrimStart('\n');
            }
        }
        sb.Append("<|assistant|>");
        if (showReasoning && reasoning.Length > 0) sb.Append("\n<think>").Append(reasoning.Trim()).Append("</think>");
        else sb.Append("\n<think></think>");
        string visible = content.Trim();
        if (visible.Length > 0) sb.Append('\n').Append(visible);
        foreach (var call in m.ToolCalls ?? [])
        {
            sb.Append("\n<tool_call>").Append(call.Name).Append('\n');
            using var arguments = System.Text.Json.JsonDocument.Parse(call.ArgumentsJson);
            foreach (var argument in arguments.RootElement.EnumerateObject())
            {
                string value = argument.Value.ValueKind == System.Text.Json.JsonValueKind.String ? argument.Value.GetString()! : TemplateJson.Serialize(argument.Value);
                sb.Append("<arg_key>").Append(argument.Name).Append("</arg_key>\n<arg_value>").Append(value).Append("</arg_value>\n");
            }
            sb.Append("</tool_call>");
        }
    }
}
