using System.CommandLine;
using GlmSharp.Errors;
using GlmSharp.Inference;
using GlmSharp.Models;
using GlmSharp.Tokenizers.Chat;
using GlmSharp.Vision;

namespace GlmSharp.Cli.Commands;

internal static class ChatCommand
{
    private const string ImageCommand = "/image";

    public static Command Create()
    {
        var model = CommonOptions.Model();
        var context = CommonOptions.Context();
        var cacheType = CommonOptions.CacheType();
        var system = new Option<string?>("--system") { Description = "System message that opens the conversation" };
        var maxTokens = new Option<int>("--max-tokens") { Description = "Most tokens per reply", DefaultValueFactory = _ => 256 }.Within(NumericRange.AtLeast(1));
        var noThink = new Option<bool>("--no-think") { Description = "Ask GLM-4.5-style models to answer without a <think> section" };
        var mmproj = ImageOptions.Mmproj();
        var sampling = new SamplingOptionSet();
        var command = new Command("chat", "Talk with a model in the terminal (keeps the history; /image PATH attaches an image to your next message, /reset clears it, /exit or Ctrl-D ends)")
            { model, context, cacheType, system, maxTokens, noThink, mmproj };
        sampling.AddTo(command);
        command.SetAction(async (parse, cancellation) =>
        {
            var cache = CommonOptions.ParseCacheType(parse.GetValue(cacheType)!);
            using var loaded = ModelLoader.Load(DefaultModel.Resolve(parse.GetValue(model)));
            var tokenizer = loaded.Tokenizer ?? throw new UnsupportedModelException($"{loaded.Path}: the model has no tokenizer, so it cannot chat");
            using var generator = new Generator(loaded, parse.GetValue(context), cache);
            using var encoder = parse.GetValue(mmproj) is not null || ImageEncoder.HasTowerInFolder(loaded.Architecture)
                ? ImageEncoder.Open(loaded, parse.GetValue(mmproj))
                : null;
            var options = new GenerationOptions { MaxTokens = parse.GetValue(maxTokens), Sampling = sampling.Read(parse, loaded.Generation) };
            var templateOptions = new ChatTemplateOptions { EnableThinking = !parse.GetValue(noThink) };
            var history = new List<ChatMessage>();
            // Every image of the conversation in the order the template writes their placeholders (user turns only).
            var images = new List<EncodedImage>();
            var attached = new List<EncodedImage>();
            if (parse.GetValue(system) is { } systemText) history.Add(ChatMessage.System(systemText));
            Console.Error.WriteLine($"{loaded.Config.ModelType} model from {loaded.Path}; {(encoder is null ? "" : "/image PATH attaches an image, ")}/reset clears the history, /exit ends.");
            while (true)
            {
                Console.Write("> ");
                string? line = Console.ReadLine();
                if (line is null || line.Trim() == "/exit") break;
                if (line.Trim() == "/reset")
                {
                    history.RemoveAll(m => m.Role != ChatRole.System);
                    images.Clear();
                    attached.Clear();
                    continue;
                }
                if (line.TrimStart().StartsWith(ImageCommand, StringComparison.Ordinal))
                {
                    Attach(line.Trim()[ImageCommand.Length..].Trim());
                    continue;
                }
                if (line.Trim().Length == 0) continue;
                // GLM-4.1V's template writes each image part as its placeholder; the images go before the text, as in its examples.
                history.Add(ChatMessage.User(string.Concat(attached.Select(_ => ImagePrompt.Placeholder)) + line));
                int added = attached.Count;
                images.AddRange(attached);
                attached.Clear();
                var reply = new System.Text.StringBuilder();
                try
                {
                    var prompt = MultimodalPrompt.FromText(loaded.ChatTemplate.Render(history, templateOptions), tokenizer, images, encoder?.ImageTokenId ?? 0, loaded.Path);
                    await foreach (var chunk in generator.GenerateAsync(prompt, options, cancellation))
                    {
                        Console.Write(chunk.Text);
                        reply.Append(chunk.Text);
                    }
                }
                catch (Exception e) when (e is ContextLimitException or ImageInputException)
                {
                    history.RemoveAt(history.Count - 1);
                    images.RemoveRange(images.Count - added, added);
                    Console.Error.WriteLine($"error: {e.Message}; /reset to start over");
                    continue;
                }
                Console.WriteLine();
                history.Add(ChatMessage.Assistant(reply.ToString().Trim()));
            }
            return 0;

            void Attach(string path)
            {
                try
                {
                    if (encoder is null)
                        throw new ImageInputException($"{loaded.Path}: the model has no vision tower; start the chat with --mmproj (a glm4v mmproj GGUF) or a glm4v Hugging Face folder");
                    if (path.Length == 0) throw new ImageInputException($"{ImageCommand}: give the image file's path");
                    attached.Add(ImageOptions.Encode(encoder, path));
                    Console.Error.WriteLine($"{path}: attached to your next message ({attached[^1].Tokens} image tokens)");
                }
                catch (ImageInputException e)
                {
                    Console.Error.WriteLine($"error: {e.Message}");
                }
            }
        });
        return command;
    }
}
