using GlmSharp.Tests.Support;
using GlmSharp.Training;

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
    public void Dialogue_Pass_From_A_Model_Folder_Mixes_In_Plain_Text_And_Exports_The_Trained_Weights()
    {
        // The starting folder comes from the tests' own checkpoint writer, not the trainer's exporter, so the names must agree.
        var (start, _, _) = TinyChatModel.Write(Directory.CreateDirectory(_dir.File("start")).FullName);
        string conversations = _dir.File("d.jsonl");
        File.WriteAllLines(conversations, Enumerable.Repeat(
            "{\"messages\": [{\"role\": \"user\", \"content\": \"Tell me about the fox.\"}, {\"role\": \"assistant\", \"content\": \"The quick brown fox jumps over the lazy dog.\"}]}", 4));
        string text = _dir.File("t.txt");
        File.WriteAllText(text, $"{TinyChatModel.Corpus}\n<|endoftext|>\n{TinyChatModel.Corpus}\n");
        string output = _dir.File("out");

        var result = GlmCli.Run("train", "--dialogue", "--tokenizer", start, "--init-from", start, "--train", conversations, "--valid", conversations,
            "--mix-pretraining", "0.5", "--mix-text", text, "--steps", "2", "--batch", "2", "--seq-len", "16", "--warmup", "0",
            "--eval-batches", "1", "--output", output, "--dtype", "f32");

        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Contains("1 of every 2 sequences", result.Stdout);
        var before = HfCheckpointImporter.LoadGlm4(start);
        var after = HfCheckpointImporter.LoadGlm4(output);
        Assert.Equal(before.Shape, after.Shape);
        Assert.NotEqual(before.Parameters.Values, after.Parameters.Values);
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
