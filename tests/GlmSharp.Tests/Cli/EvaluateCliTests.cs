using GlmSharp.Cli.Commands;
using GlmSharp.Models;
using GlmSharp.Tests.Support;
using GlmSharp.Training.Evaluation;

namespace GlmSharp.Tests.Cli;

public sealed class EvaluateCliTests
{
    private static readonly string DraftModel = Path.Combine(AppContext.BaseDirectory, "models", "glm-tiny-draft");
    private static readonly string Words = Path.Combine(AppContext.BaseDirectory, "WordList", "american-english.gz");

    [Fact]
    public void Evaluate_Reports_Every_Prompt_As_The_Library_Measures_It_And_Sums_Up()
    {
        var result = GlmCli.Run("evaluate", "--model", DraftModel, "--words", Words, "--max-tokens", "40", "--reply-tokens", "20");

        Assert.True(result.ExitCode == 0, result.Stderr);
        using var model = ModelLoader.Load(DraftModel);
        var probe = GreedyProbe.Continue(model, "The king said", 40);
        var score = TextScore.Of(probe.Text, WordList.Load(Words));
        string known = score.Words == 0 ? "-" : EvaluateCommand.Percent(score.KnownWordShare, 0);
        Assert.Contains($"  The king said | {probe.Tokens} tokens ({(probe.Stopped ? "stop token" : "limit")}) | {score.Words} words, {known} known", result.Stdout);
        var lines = result.Stdout.Split('\n');
        Assert.Equal(GreedyProbe.EnglishPrompts.Count + GreedyProbe.ChatPrompts.Count, lines.Count(l => l.Contains(" tokens (", StringComparison.Ordinal)));
        Assert.Single(lines, l => l.StartsWith("continuations: ", StringComparison.Ordinal));
        Assert.Single(lines, l => l.StartsWith("replies: ", StringComparison.Ordinal));
    }
}
