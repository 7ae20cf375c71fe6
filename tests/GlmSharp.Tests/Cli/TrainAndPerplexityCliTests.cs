using GlmSharp.Tests.Support;

namespace GlmSharp.Tests.Cli;

public sealed class TrainAndPerplexityCliTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Train_Dialogue_Without_A_Tokenizer_Fails_With_A_Clear_Message()
    {
        string conversations = _dir.File("d.jsonl");
        File.WriteAllText(conversations, "{\"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}, {\"role\": \"assistant\", \"content\": \"Hello.\"}]}\n");
        var result = GlmCli.Run("train", "--dialogue", "--train", conversations, "--valid", conversations, "--size", "tiny");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("--dialogue needs --tokenizer", result.Stderr);
    }

    [Fact]
    public void Perplexity_Of_A_Missing_File_Names_The_File()
    {
        string missing = _dir.File("missing.txt");
        var result = GlmCli.Run("perplexity", "--file", missing);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"--file {missing}: no such file", result.Stderr);
    }

    [Fact]
    public void Perplexity_Of_A_Text_Shorter_Than_The_Window_Reports_Both_Lengths()
    {
        string text = _dir.File("short.txt");
        File.WriteAllText(text, "The old man said hello.");
        var result = GlmCli.Run("perplexity", "--file", text, "--context", "512");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("fewer than one window of 512", result.Stderr);
    }
}
