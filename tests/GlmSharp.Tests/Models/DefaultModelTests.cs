using GlmSharp.Models;
using GlmSharp.Tests.Support;
using GlmSharp.Training.Evaluation;
using DefaultModel = GlmSharp.Cli.DefaultModel;

namespace GlmSharp.Tests.Models;

/// <summary>
/// The model that `glm generate` and `glm chat` run without --model (issue 12): greedy, it must keep going on a short
/// English prompt — 40 tokens before any end token, at least 80% of them dictionary words — on every prompt that
/// `glm evaluate` reports on.
/// </summary>
public sealed class DefaultModelTests
{
    public static readonly string DefaultModelPath = Path.Combine(AppContext.BaseDirectory, DefaultModel.RelativePath);

    [Fact]
    public void Greedy_Continuations_Of_Short_English_Prompts_Run_40_Tokens_Before_An_End_Token_With_80_Percent_Dictionary_Words()
    {
        var dictionary = WordList.Load(Path.Combine(AppContext.BaseDirectory, "WordList", "american-english.gz"));
        using var model = ModelLoader.Load(DefaultModelPath);

        var failures = new List<string>();
        foreach (string prompt in GreedyProbe.EnglishPrompts)
        {
            var probe = GreedyProbe.Continue(model, prompt, maxTokens: 40);
            var score = TextScore.Of(probe.Text, dictionary);
            if (probe.Stopped || score.KnownWordShare < 0.8)
                failures.Add($"'{prompt}': {probe.Tokens} tokens{(probe.Stopped ? " then an end token" : "")}, {score.KnownWords} of {score.Words} words known: {probe.Text}");
        }

        Assert.True(failures.Count == 0, $"{failures.Count} of {GreedyProbe.EnglishPrompts.Count} prompts fall short:\n{string.Join("\n", failures)}");
    }

    [Fact]
    public void Most_Greedy_Chat_Replies_End_With_A_Turn_End_Token()
    {
        using var model = ModelLoader.Load(DefaultModelPath);
        var replies = GreedyProbe.ChatPrompts.Select(q => GreedyProbe.Reply(model, q, maxTokens: 150)).ToArray();
        int stopped = replies.Count(r => r.Stopped);
        Assert.True(stopped >= replies.Length / 2,
            $"{stopped} of {replies.Length} replies ended with a turn-end token:\n" + string.Join("\n", replies.Select(r => $"{r.Prompt} -> {r.Finish}: {r.Text}")));
        Assert.All(replies, r => Assert.False(string.IsNullOrWhiteSpace(r.Text), $"empty reply to {r.Prompt}"));
    }

    [Fact]
    public void Generate_Without_Model_Runs_The_Default_Model()
    {
        string[] args = ["generate", "--prompt", "The old man said", "--temperature", "0", "--max-tokens", "12", "--output", "ids"];
        var implicitModel = GlmCli.Run(args);
        var explicitModel = GlmCli.Run([.. args, "--model", DefaultModelPath]);

        Assert.Equal(0, implicitModel.ExitCode);
        Assert.NotEmpty(implicitModel.Stdout.Trim());
        Assert.Equal(explicitModel.Stdout, implicitModel.Stdout);
    }
}
