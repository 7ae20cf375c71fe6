namespace GlmSharp.Tokenizers.Chat;

public enum ChatTemplateStyle
{
    /// <summary>GLM-4-0414 / Z1 / glm-4-9b-chat: <c>[gMASK]&lt;sop&gt;&lt;|user|&gt;\n…&lt;|assistant|&gt;\n…</c>.</summary>
    Glm4,
    /// <summary>GLM-4.5 / 4.6 / 4.7: like GLM-4 plus <c>&lt;think&gt;</c> blocks on assistant turns and <c>/nothink</c>.</summary>
    Glm45,
}
