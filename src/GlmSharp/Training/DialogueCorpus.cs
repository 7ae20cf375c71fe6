using System.Text.Json;
using GlmSharp.Errors;
using GlmSharp.Tokenizers;
using GlmSharp.Tokenizers.Chat;

namespace GlmSharp.Training;

/// <summary>
/// Conversations for the supervised pass (<c>glm train --dialogue</c>): a JSONL file with one
/// <c>{"messages": [{"role": "user", "content": …}, {"role": "assistant", …}, …]}</c> per line, as written by
/// <c>scripts/prepare_dialogue.py</c>. Each conversation is rendered with the tokenizer's chat template; only what the
/// model must produce is scored — every assistant turn after its <c>&lt;|assistant|&gt;</c> tag, and the
/// <c>&lt;|user|&gt;</c> that ends it, since that token is where generation stops.
/// </summary>
public static class DialogueCorpus
{
    public const string TurnEnd = "<|user|>";

    public static IReadOnlyList<IReadOnlyList<ChatMessage>> Read(string path)
    {
        if (!File.Exists(path)) throw new GlmException($"{path}: dialogue file not found (run scripts/prepare_dialogue.py)");
        var conversations = new List<IReadOnlyList<ChatMessage>>();
        int lineNumber = 0;
        foreach (string line in File.ReadLines(path))
        {
            lineNumber++;
            if (line.Length == 0) continue;
            conversations.Add(Parse(line, $"{path}:{lineNumber}"));
        }
        if (conversations.Count == 0) throw new GlmException($"{path}: no conversations");
        return conversations;
    }

    private static ChatMessage[] Parse(string line, string where)
    {
        var root = Formats.JsonText.ParseAny(line, where).RootElement;
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("messages", out var messages) || messages.ValueKind != JsonValueKind.Array)
            throw new GlmException($"{where}: expected an object with a \"messages\" array");
        var result = new List<ChatMessage>();
        foreach (var m in messages.EnumerateArray())
        {
            string role = Field(m, "role", where);
            string content = Field(m, "content", where);
            result.Add(role switch
            {
                "system" => ChatMessage.System(content),
                "user" => ChatMessage.User(content),
                "assistant" => ChatMessage.Assistant(content),
                _ => throw new GlmException($"{where}: role must be system, user or assistant, found '{role}'"),
            });
        }
        if (!result.Any(m => m.Role == ChatRole.Assistant)) throw new GlmException($"{where}: the conversation has no assistant turn to learn from");
        return [.. result];
    }

    private static string Field(JsonElement message, string name, string where) =>
        message.ValueKind == JsonValueKind.Object && message.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()!
            : throw new GlmException($"{where}: every message needs a string \"{name}\"");

    /// <summary>
    /// The rendered conversations, one after another, each followed by <c>&lt;|endoftext|&gt;</c>. The template renders
    /// a conversation as a sequence of prefixes, so the text of assistant turn k is what the rendering of turns 0..k adds
    /// to the rendering of turns 0..k-1 with a generation prompt; special tokens bound every piece, so encoding the
    /// pieces one by one gives the ids of the whole text. Windows score only conversations that begin inside them.
    /// </summary>
    public static TokenStream Tokenize(IReadOnlyList<IReadOnlyList<ChatMessage>> conversations, BpeTokenizer tokenizer, IChatTemplate template)
    {
        int endOfText = tokenizer.AddedTokenId(TextCorpus.DocumentSeparator);
        int turnEnd = tokenizer.AddedTokenId(TurnEnd);
        var ids = new List<int>();
        var scored = new List<bool>();
        var starts = new List<int>();
        void Add(IEnumerable<int> tokens, bool score)
        {
            foreach (int id in tokens)
            {
                ids.Add(id);
                scored.Add(score);
            }
        }

        var noPrompt = new ChatTemplateOptions { AddGenerationPrompt = false };
        var withPrompt = new ChatTemplateOptions { AddGenerationPrompt = true };
        foreach (var conversation in conversations)
        {
            starts.Add(ids.Count);
            string rendered = "";
            for (int k = 0; k < conversation.Count; k++)
            {
                if (conversation[k].Role != ChatRole.Assistant) continue;
                var before = conversation.Take(k).ToArray();
                string prompt = template.Render(before, withPrompt);
                string full = template.Render([.. before, conversation[k]], noPrompt);
                if (!prompt.StartsWith(rendered, StringComparison.Ordinal) || !full.StartsWith(prompt, StringComparison.Ordinal))
                    throw new GlmException($"the {template.Style} chat template does not render conversations as growing prefixes, so answers cannot be masked");
                Add(tokenizer.Encode(prompt[rendered.Length..]), score: false);
                Add(tokenizer.Encode(full[prompt.Length..]), score: true);
                Add([turnEnd], score: true);
                rendered = full + TurnEnd;
            }
            Add([endOfText], score: false);
        }
        return new TokenStream([.. ids], [.. scored], [.. starts]);
    }
}
