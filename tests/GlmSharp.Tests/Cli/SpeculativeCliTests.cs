using GlmSharp.Tests.Support;

namespace GlmSharp.Tests.Cli;

/// <summary>
/// `glm generate --draft` and `--mtp`: the shipped draft model, or a glm4_moe model's own NextN layer, drafts without
/// changing greedy output.
/// </summary>
public sealed class SpeculativeCliTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

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

    [Fact]
    public void Greedy_Output_With_The_NextN_Layer_Equals_Output_Without_And_Verbose_Reports_Acceptance()
    {
        string[] common = ["generate", "--model", TinyMoeChatModel.Write(_dir.File("moe")), "--prompt", "The quick brown fox", "--max-tokens", "30", "--temperature", "0", "--output", "ids"];
        var alone = GlmCli.Run(common);
        var speculative = GlmCli.Run([.. common, "--mtp", "--verbose"]);
        Assert.Equal(0, alone.ExitCode);
        Assert.True(speculative.ExitCode == 0, speculative.Stderr);
        Assert.Equal(alone.Stdout, speculative.Stdout);
        Assert.Matches(@"speculative decoding: \d+ of \d+ drafted tokens accepted", speculative.Stderr);
    }

    [Fact]
    public void Mtp_On_A_Model_Without_A_NextN_Layer_Is_A_One_Line_Error_Naming_The_Model()
    {
        string model = Path.Combine(Models, "glm-tiny-chat");
        var result = GlmCli.Run("generate", "--model", model, "--prompt", "x", "--mtp");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("no multi-token-prediction layer", result.Stderr);
        Assert.Contains("glm-tiny-chat", result.Stderr);
        Assert.DoesNotContain("   at ", result.Stderr);
    }

    [Fact]
    public void Mtp_And_Draft_Together_Are_A_One_Line_Error()
    {
        var result = GlmCli.Run("generate", "--prompt", "x", "--mtp", "--draft", Path.Combine(Models, "glm-tiny-draft"));
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("at most one of --draft or --mtp", result.Stderr);
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
