using GlmSharp.Errors;
using GlmSharp.Tokenizers;
using GlmSharp.Tokenizers.Chat;

namespace GlmSharp.Server;

/// <summary>A conversation rendered by the model's chat template and encoded: its tokens, and whether the template opened thinking.</summary>
internal sealed record ChatPrompt(int[] Tokens, bool StartsInReasoning)
{
    public static ChatPrompt Prepare(IChatTemplate template, BpeTokenizer tokenizer, IReadOnlyList<ChatMessage> messages, ChatTemplateOptions options, int contextLength)
    {
        string text = template.Render(messages, options);
        var tokens = tokenizer.Encode(text);
        if (tokens.Length >= contextLength)
            throw new ContextLimitException($"the prompt has {tokens.Length} tokens, the context holds {contextLength}; shorten the conversation");
        return new ChatPrompt(tokens, text.TrimEnd().EndsWith("<think>", StringComparison.Ordinal));
    }
}
