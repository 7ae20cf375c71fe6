using System.CommandLine;
using GlmSharp.Errors;
using GlmSharp.Inference;
using GlmSharp.Models;
using GlmSharp.Tokenizers.Chat;

namespace GlmSharp.Cli.Commands;

internal static class ChatCommand
{
    public static Command Create()
    {
        var model = CommonOptions.Model();
        var context = CommonOptions.Context();
        var cacheType = CommonOptions.CacheType();
        var system = new Option<string?>("--system") { Description = "System message that opens the conversation" };
        var maxTokens = new Option<int>("--max-tokens") { Description = "Most tokens per reply", DefaultValueFactory = _ => 256 }.Within(NumericRange.AtLeast(1));
        var noThink = new Option<bool>("--no-think") { Description = "Ask GLM-4.5-style models to answer without a <think> section" };
        var sampling = new SamplingOptionSet();
        var command = new Command("chat", "Talk with a model in the terminal (keeps the history; /reset clears it, /exit or Ctrl-D ends)")
            { model, context, cacheType, system, maxTokens, noThink };
        sampling.AddTo(command);
        command.SetAction(async (parse, cancellation) =>
        {
            var cache = CommonOptions.ParseCacheType(parse.GetValue(cacheType)!);
            using var loaded = ModelLoader.Load(DefaultModel.Resolve(parse.GetValue(model)));
            var tokenizer = loaded.Tokenizer ?? throw new UnsupportedModelException($"{loaded.Path}: the model has no tokenizer, so it cannot chat");
            using var generator = new Generator(loaded, parse.GetValue(context), cache);
            var options = new GenerationOptions { MaxTokens = parse.GetValue(maxTokens), Sampling = sampling.Read(parse, loaded.Generation) };
            var templateOptions = new ChatTemplateOptions { EnableThinking = !parse.GetValue(noThink) };
            var history = new List<ChatMessage>();
            if (parse.GetValue(system) is { } systemText) history.Add(ChatMessage.System(systemText));
            Console.Error.WriteLine($"{loaded.Config.ModelType} model from {loaded.Path}; /reset clears the history, /exit ends.");
            while (true)
            {
                Console.Write("> ");
                string? line = Console.ReadLine();
                if (line is null || line.Trim() == "/exit") break;
                if (line.Trim() == "/reset")
                {
                    history.RemoveAll(m => m.Role != ChatRole.System);
                    continue;
                }
                if (line.Trim().Length == 0) continue;
                history.Add(ChatMessage.User(line));
                var prompt = tokenizer.Encode(loaded.ChatTemplate.Render(history, templateOptions));
                var reply = new System.Text.StringBuilder();
                try
                {
                    await foreach (var chunk in generator.GenerateAsync(prompt, options, cancellation))
                    {
                        Console.Write(chunk.Text);
                        reply.Append(chunk.Text);
                    }
                }
                catch (ContextLimitException e)
                {
                    history.RemoveAt(history.Count - 1);
                    Console.Error.WriteLine($"error: {e.Message}; /reset to start over");
                    continue;
                }
                Console.WriteLine();
                history.Add(ChatMessage.Assistant(reply.ToString().Trim()));
            }
            return 0;
        });
        return command;
    }
}
