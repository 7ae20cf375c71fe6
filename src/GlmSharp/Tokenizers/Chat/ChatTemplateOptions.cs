namespace GlmSharp.Tokenizers.Chat;

public sealed record ChatTemplateOptions
{
    /// <summary>End with the assistant header so the model writes the next turn.</summary>
    public bool AddGenerationPrompt { get; init; } = true;

    /// <summary>GLM-4.5+: false appends <c>/nothink</c> to user turns and an empty think block to the generation prompt
    /// (the template's <c>enable_thinking=false</c>). Ignored by GLM-4 style.</summary>
    public bool EnableThinking { get; init; } = true;

    /// <summary>Tool definitions, each the JSON of one OpenAI-style tool as <see cref="TemplateJson"/> writes it (GLM-4.5+).</summary>
    public IReadOnlyList<string> Tools { get; init; } = [];
}
