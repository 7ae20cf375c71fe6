using GlmSharp.Inference;
using GlmSharp.Models;
using GlmSharp.Tokenizers.Chat;

namespace GlmSharp.Training.Evaluation;

/// <summary>What greedy decoding made of one prompt: the text, how many tokens, and whether a stop token ended it.</summary>
public sealed record ProbeResult(string Prompt, string Text, int Tokens, FinishReason Finish)
{
    public bool Stopped => Finish == FinishReason.Stop;
}

/// <summary>
/// Greedy (temperature 0) generation with the model's own stop tokens, as `glm generate --temperature 0` and
/// `glm chat --temperature 0` run it: the plain continuation of a prompt, or the reply to one user turn.
/// </summary>
public static class GreedyProbe
{
    /// <summary>Short English openings, none of them taken from the training corpus.</summary>
    public static readonly IReadOnlyList<string> EnglishPrompts =
    [
        "The king said", "In the morning, the old man", "The old man said that", "Once upon a time, there was",
        "She opened the door and", "The first thing you should know about money is", "When I was young,",
        "The city council voted", "He looked at the sky and", "It was a dark and stormy night",
    ];

    /// <summary>Questions of the kinds the dialogue set holds, in English and Chinese.</summary>
    public static readonly IReadOnlyList<string> ChatPrompts =
    [
        "Tell me a fortune.", "Give me some advice.", "Continue this text: The jury said it had found no evidence.",
        "Tell me something about money.", "请写一首诗。", "说一句有道理的话。",
    ];

    public static ProbeResult Continue(LoadedModel model, string prompt, int maxTokens) =>
        Run(model, prompt, Tokenizer(model).Encode(prompt), maxTokens);

    public static ProbeResult Reply(LoadedModel model, string message, int maxTokens) =>
        Run(model, message, Tokenizer(model).Encode(model.ChatTemplate.Render([ChatMessage.User(message)], new ChatTemplateOptions())), maxTokens);

    private static Tokenizers.BpeTokenizer Tokenizer(LoadedModel model) =>
        model.Tokenizer ?? throw new Errors.UnsupportedModelException($"{model.Path}: the model has no tokenizer, so its text cannot be judged");

    private static ProbeResult Run(LoadedModel model, string prompt, int[] ids, int maxTokens)
    {
        using var generator = new Generator(model);
        var options = new GenerationOptions { MaxTokens = maxTokens, Sampling = SamplingOptions.Greedy };
        var chunks = generator.GenerateAsync(ids, options).ToBlockingEnumerable().ToList();
        return new ProbeResult(prompt, string.Concat(chunks.Select(c => c.Text)), chunks.Count(c => c.TokenId is not null),
            chunks[^1].Finish ?? FinishReason.Length);
    }
}
