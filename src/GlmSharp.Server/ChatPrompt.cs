using GlmSharp.Errors;
using GlmSharp.Tokenizers;
using GlmSharp.Tokenizers.Chat;
using GlmSharp.Vision;

namespace GlmSharp.Server;

/// <summary>
/// A conversation rendered by the model's chat template and encoded: its rows (tokens, and the rows of any images
/// where the template wrote their placeholders), and whether the template opened thinking.
/// </summary>
internal sealed record ChatPrompt(MultimodalPrompt Rows, bool StartsInReasoning)
{
    public int Length => Rows.Length;

    public static ChatPrompt Prepare(IChatTemplate template, BpeTokenizer tokenizer, IReadOnlyList<ChatMessage> messages, ChatTemplateOptions options, int contextLength,
        IReadOnlyList<EncodedImage>? images = null, int imageTokenId = 0, string modelOrigin = "", IReadOnlyList<EncodedVideo>? videos = null)
    {
        string text = template.Render(messages, options);
        var rows = images is { Count: > 0 } || videos is { Count: > 0 }
            ? MultimodalPrompt.FromText(text, tokenizer, images ?? [], imageTokenId, modelOrigin, videos)
            : MultimodalPrompt.Text(tokenizer.Encode(text));
        if (rows.Length >= contextLength)
            throw new ContextLimitException($"the prompt has {rows.Length} tokens, the context holds {contextLength}; shorten the conversation");
        return new ChatPrompt(rows, text.TrimEnd().EndsWith("<think>", StringComparison.Ordinal));
    }
}
