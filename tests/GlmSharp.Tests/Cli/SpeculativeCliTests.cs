using GlmSharp.Tests.Support;

namespace GlmSharp.Tests.Cli;

/// <summary>`glm generate --draft`: the shipped draft model speeds up the shipped chat model without changing greedy output.</summary>
public sealed class SpeculativeCliTests
{
    private static readonly string Models = Path.Combine(AppContext.BaseDirectory, "models");

    [Fact]
    public void Greedy_Output_With_The_Shipped_Draft_Equals_Output_Without_And_Verbose_Reports_Acceptance()
    {
        string[] common = ["generate", "--model", Path.Combine(Models, "glm-tiny-chat"), "--prompt", "Once upon a time, there was", "--max-tokens", "48", "--temperature", "0", "--output", "ids"];
        var alone = GlmCli.Run(common);
        var speculative = GlmCli.Run([.. common, "--draft", Path.Combine(Models, "glm-tiny-draft"), "--draft-tokens", "3", "--verbose"]);
        Assert.Equal(0, alone.ExitCode);
        Assert.True(speculative.ExitCode == 0, speculative.Stderr);
        Assert.Equal(alone.Stdout, speculative.Stdout);
        Assert.Matches(@"speculative decoding: \d+ of \d+ drafted tokens accepted", speculative.Stderr);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("17")]
    public void Draft_Tokens_Out_Of_Range_Are_A_One_Line_Error(string value)
    {
        var result = GlmCli.Run("generate", "--prompt", "x", "--draft-tokens", value);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("--draft-tokens", result.Stderr);
        Assert.DoesNotContain("   at ", result.Stderr);
    }
}
