using GlmSharp.Tests.Support;

namespace GlmSharp.Tests.Cli;

/// <summary>`glm serve`'s options are checked before anything is loaded or bound.</summary>
public sealed class ServeCliTests
{
    [Theory]
    [InlineData("--host", "localhost.example", "is not an IP address")]
    [InlineData("--port", "70000", "--port")]
    [InlineData("--parallel", "0", "--parallel")]
    [InlineData("--kv-budget", "0", "--kv-budget")]
    public void Bad_Options_Are_A_One_Line_Error(string option, string value, string expected)
    {
        var result = GlmCli.Run("serve", option, value);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains(expected, result.Stderr);
        Assert.DoesNotContain("   at ", result.Stderr);
    }
}
