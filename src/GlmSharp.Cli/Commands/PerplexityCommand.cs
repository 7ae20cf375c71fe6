using System.CommandLine;
using System.Globalization;
using GlmSharp.Errors;
using GlmSharp.Inference;
using GlmSharp.Models;

namespace GlmSharp.Cli.Commands;

internal static class PerplexityCommand
{
    public static Command Create()
    {
        var model = CommonOptions.Model();
        var file = new Option<string>("--file") { Description = "UTF-8 text to score (special tokens written in it, such as <|endoftext|>, become their ids)", Required = true }
            .ExistingFile();
        // Perplexity.Measure needs 4 tokens to score the second half of a window; its upper limit is the model's.
        var context = new Option<int>("--context") { Description = "Window length in tokens", DefaultValueFactory = _ => 512 }.Within(NumericRange.AtLeast(4));
        var cacheType = CommonOptions.CacheType();
        var command = new Command("perplexity",
            "Perplexity of a text by llama-perplexity's method: non-overlapping windows of --context tokens, each evaluated from " +
            "an empty cache; the score is exp of the mean negative log-likelihood of the predictions in the second half of each " +
            "window (a partial last window is dropped; no BOS is inserted)") { model, file, context, cacheType };
        command.SetAction(parse =>
        {
            var cache = CommonOptions.ParseCacheType(parse.GetValue(cacheType)!);
            string path = parse.GetValue(file)!;
            using var loaded = ModelLoader.Load(DefaultModel.Resolve(parse.GetValue(model)));
            var tokenizer = loaded.Tokenizer ?? throw new UnsupportedModelException($"{loaded.Path}: the model has no tokenizer, so it cannot read text");
            var tokens = tokenizer.Encode(File.ReadAllText(path));
            int windowLength = parse.GetValue(context);
            Console.Error.WriteLine($"{tokens.Length:N0} tokens, {tokens.Length / windowLength:N0} windows of {windowLength}");
            var result = Perplexity.Measure(loaded.Model, tokens, windowLength, cache);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"perplexity {result.Value:F4} (mean NLL {result.MeanNll:F6} nats/token over {result.ScoredTokens:N0} tokens in {result.Windows} windows of {windowLength})"));
            return 0;
        });
        return command;
    }
}
