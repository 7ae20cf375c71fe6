using System.CommandLine;
using System.Globalization;
using GlmSharp.Models;
using GlmSharp.Training.Evaluation;

namespace GlmSharp.Cli.Commands;

/// <summary>
/// <c>glm evaluate</c>: how a model writes under greedy decoding — on fixed short English prompts, how many tokens it
/// writes before a stop token, the share of dictionary words and of distinct word 3-grams; on fixed chat questions,
/// whether the reply ends its turn. The numbers behind the choice of the default model (models/README.md).
/// </summary>
internal static class EvaluateCommand
{
    /// <summary>The bar the default model must clear (issue 12): this many tokens before an end token, this share of dictionary words.</summary>
    public const int RequiredTokens = 40;
    public const double RequiredKnownShare = 0.8;

    public static Command Create()
    {
        var model = CommonOptions.Model();
        var words = new Option<string>("--words")
        {
            Description = "Word list, one word a line, plain or .gz",
            DefaultValueFactory = _ => "tests/GlmSharp.Tests/WordList/american-english.gz",
        }.ExistingFile();
        var maxTokens = new Option<int>("--max-tokens") { Description = "Most tokens per continuation", DefaultValueFactory = _ => 80 }
            .Within(NumericRange.AtLeast(RequiredTokens));
        var replyTokens = new Option<int>("--reply-tokens") { Description = "Most tokens per chat reply", DefaultValueFactory = _ => 150 }.Within(NumericRange.AtLeast(1));
        var command = new Command("evaluate",
            $"Greedy continuations of {GreedyProbe.EnglishPrompts.Count} short English prompts (tokens before a stop token, dictionary words, " +
            $"distinct word 3-grams) and greedy replies to {GreedyProbe.ChatPrompts.Count} chat questions (does the reply end its turn)")
            { model, words, maxTokens, replyTokens };
        command.SetAction(parse =>
        {
            var dictionary = WordList.Load(parse.GetValue(words)!);
            using var loaded = ModelLoader.Load(DefaultModel.Resolve(parse.GetValue(model)));
            Console.WriteLine($"{loaded.Path}: continuations of up to {parse.GetValue(maxTokens)} tokens");
            var continuations = GreedyProbe.EnglishPrompts.Select(p => Report(GreedyProbe.Continue(loaded, p, parse.GetValue(maxTokens)), dictionary)).ToArray();
            Console.WriteLine($"replies of up to {parse.GetValue(replyTokens)} tokens");
            var replies = GreedyProbe.ChatPrompts.Select(p => Report(GreedyProbe.Reply(loaded, p, parse.GetValue(replyTokens)), dictionary)).ToArray();

            int passing = continuations.Count(c => c.Probe.Tokens >= RequiredTokens && c.Score.KnownWordShare >= RequiredKnownShare);
            int knownWords = continuations.Sum(c => c.Score.KnownWords);
            int allWords = continuations.Sum(c => c.Score.Words);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"continuations: {passing} of {continuations.Length} run >= {RequiredTokens} tokens with >= {Percent(RequiredKnownShare, 0)} dictionary words; " +
                $"{continuations.Count(c => c.Probe.Tokens >= RequiredTokens)} run >= {RequiredTokens} tokens; " +
                $"median {Median(continuations.Select(c => c.Probe.Tokens))} tokens; dictionary words {Percent((double)knownWords / Math.Max(allWords, 1), 1)} of {allWords}; " +
                $"distinct 3-grams {Percent(continuations.Average(c => c.Score.DistinctTrigramShare), 1)} (mean)"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"replies: {replies.Count(r => r.Probe.Stopped)} of {replies.Length} end their turn; median {Median(replies.Select(r => r.Probe.Tokens))} tokens"));
            return 0;
        });
        return command;
    }

    private static (ProbeResult Probe, TextScore Score) Report(ProbeResult probe, WordList dictionary)
    {
        var score = TextScore.Of(probe.Text, dictionary);
        string known = score.Words == 0 ? "-" : Percent(score.KnownWordShare, 0);
        Console.WriteLine(
            $"  {probe.Prompt} | {probe.Tokens} tokens ({(probe.Stopped ? "stop token" : "limit")}) | {score.Words} words, {known} known | distinct 3-grams {Percent(score.DistinctTrigramShare, 0)}");
        Console.WriteLine($"    {probe.Text.ReplaceLineEndings(" / ")}");
        return (probe, score);
    }

    internal static string Percent(double share, int decimals) => (share * 100).ToString($"F{decimals}", CultureInfo.InvariantCulture) + "%";

    private static double Median(IEnumerable<int> values)
    {
        var sorted = values.Order().ToArray();
        int middle = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2.0;
    }
}
