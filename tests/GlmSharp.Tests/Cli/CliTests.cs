using System.Runtime.InteropServices;
using GlmSharp.Formats.Gguf;
using GlmSharp.Models;
using GlmSharp.Tensors;
using GlmSharp.Tests.Oracle;
using GlmSharp.Tests.Support;

namespace GlmSharp.Tests.Cli;

/// <summary>The `glm` program end to end: what it prints, what it writes, and how it fails.</summary>
public sealed class CliTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Help_Lists_Every_Command()
    {
        var result = GlmCli.Run("--help");
        Assert.Equal(0, result.ExitCode);
        foreach (var command in new[] { "info", "generate", "chat", "tokenize", "logits", "convert" })
            Assert.Contains(command, result.Stdout);
    }

    [Fact]
    public void Info_Describes_The_Architecture_Shape_And_Tokenizer()
    {
        var (folder, vocabulary, spec) = TinyChatModel.Write(_dir.File("hf"));
        var result = GlmCli.Run("info", "--model", folder);
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("glm4", result.Stdout);
        Assert.Contains($"{spec.Heads} heads, {spec.KvHeads} kv heads", result.Stdout);
        Assert.Contains($"{vocabulary.Tokens.Count} tokens", result.Stdout);
    }

    [Trait("Oracle", "llama.cpp")]
    [Fact]
    public void Converted_Gguf_Generates_The_Same_Greedy_Tokens_In_LlamaCpp_As_Glm_Generate_On_The_Hf_Folder()
    {
        var (folder, _, spec) = TinyChatModel.Write(_dir.File("hf"));
        string gguf = _dir.File("model.gguf");
        Assert.Equal(0, GlmCli.Run("convert", folder, gguf, "--type", "f32").ExitCode);

        int[] prompt = [5, 17, 42, 99, 150];
        var ours = GlmCli.Run("generate", "--model", folder, "--token-ids", string.Join(",", prompt), "--max-tokens", "16",
            "--temperature", "0", "--output", "ids", "--cache-type", "f32");
        Assert.Equal(0, ours.ExitCode);
        // stop ids of the random model are never excluded here: llama.cpp's loop below does not stop either,
        // so compare up to the first stop id GlmSharp honoured.
        var ourIds = ours.Stdout.Trim().Split(',', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToArray();
        var theirs = LlamaCpp.Greedy(gguf, prompt, 16, spec.Vocab, spec.Context);
        Assert.NotEmpty(ourIds);
        Assert.Equal(theirs[..ourIds.Length], ourIds);
    }

    [Trait("Oracle", "llama.cpp")]
    [Fact]
    public void Logits_File_Holds_Every_Position_And_Matches_LlamaCpp()
    {
        var (folder, _, spec) = TinyChatModel.Write(_dir.File("hf"));
        string gguf = _dir.File("model.gguf");
        Assert.Equal(0, GlmCli.Run("convert", folder, gguf, "--type", "f32").ExitCode);
        string outFile = _dir.File("logits.bin");
        int[] tokens = [1, 2, 3, 250, 7];
        var result = GlmCli.Run("logits", "--model", gguf, "--token-ids", "1,2,3,250,7", "--out", outFile, "--cache-type", "f32");
        Assert.Equal(0, result.ExitCode);
        var bytes = File.ReadAllBytes(outFile);
        Assert.Equal(tokens.Length * spec.Vocab * sizeof(float), bytes.Length);
        var ours = MemoryMarshal.Cast<byte, float>(bytes).ToArray();
        var theirs = LlamaCpp.Logits(gguf, tokens, spec.Vocab, spec.Context);
        Assert.True(LogitComparison.WorstRelativeError(ours, theirs, spec.Vocab) <= 1e-3);
    }

    [Fact]
    public void Tokenize_Prints_Comma_Separated_Ids_That_Decode_Back_To_The_Text()
    {
        var (folder, vocabulary, _) = TinyChatModel.Write(_dir.File("hf"));
        var result = GlmCli.Run("tokenize", "--model", folder, "--text", "The lazy fox 春眠");
        Assert.Equal(0, result.ExitCode);
        var ids = result.Stdout.Trim().Split(',').Select(int.Parse).ToArray();
        Assert.Equal("The lazy fox 春眠", new GlmSharp.Tokenizers.BpeTokenizer(vocabulary).Decode(ids));
    }

    [Fact]
    public void Chat_Answers_Each_Line_In_Turn_Until_Exit()
    {
        var (folder, _, _) = TinyChatModel.Write(_dir.File("hf"));
        var result = GlmCli.RunWithInput("hello there\n/reset\nsecond question\n/exit\n", "chat", "--model", folder,
            "--max-tokens", "4", "--temperature", "0");
        Assert.Equal(0, result.ExitCode);
        Assert.Equal(4, result.Stdout.Split("> ").Length - 1); // one prompt per input line, the last one answered by /exit
    }

    [Fact]
    public void Generate_With_The_Same_Seed_Prints_The_Same_Text()
    {
        var (folder, _, _) = TinyChatModel.Write(_dir.File("hf"));
        string[] args = ["generate", "--model", folder, "--prompt", "The quick", "--max-tokens", "12", "--temperature", "1.2", "--seed", "7"];
        var first = GlmCli.Run(args);
        Assert.Equal(0, first.ExitCode);
        Assert.Equal(first.Stdout, GlmCli.Run(args).Stdout);
    }

    [Fact]
    public void A_Missing_Model_Path_Is_Named_In_A_One_Line_Error()
    {
        string missing = _dir.File("nowhere.gguf");
        var result = GlmCli.Run("info", "--model", missing);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains(missing, result.Stderr);
        Assert.DoesNotContain("   at ", result.Stderr);
    }

    [Fact]
    public void A_Corrupt_Gguf_Is_Reported_Without_A_Stack_Trace_Unless_Verbose()
    {
        string path = _dir.File("corrupt.gguf");
        File.WriteAllBytes(path, [(byte)'G', (byte)'G', (byte)'U', (byte)'F', 3, 0, 0, 0, 1]);
        var quiet = GlmCli.Run("info", "--model", path);
        Assert.Equal(1, quiet.ExitCode);
        Assert.StartsWith("error: ", quiet.Stderr);
        Assert.Contains(path, quiet.Stderr);
        Assert.DoesNotContain("   at ", quiet.Stderr);

        var verbose = GlmCli.Run("info", "--model", path, "--verbose");
        Assert.Equal(1, verbose.ExitCode);
        Assert.Contains("   at ", verbose.Stderr);
    }

    [Fact]
    public void A_Prompt_Longer_Than_The_Context_Is_Refused_With_Both_Numbers()
    {
        var (folder, _, _) = TinyChatModel.Write(_dir.File("hf"));
        string ids = string.Join(",", Enumerable.Repeat(3, 40));
        var result = GlmCli.Run("generate", "--model", folder, "--token-ids", ids, "--context", "32");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("40 tokens", result.Stderr);
        Assert.Contains("32", result.Stderr);
    }

    [Fact]
    public void An_Unknown_Architecture_Names_The_Model_Type_And_The_Supported_Ones()
    {
        var (folder, _, _) = TinyChatModel.Write(_dir.File("hf"));
        string config = Path.Combine(folder, "config.json");
        File.WriteAllText(config, File.ReadAllText(config).Replace("\"glm4\"", "\"mamba\""));
        var result = GlmCli.Run("info", "--model", folder);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("'mamba'", result.Stderr);
        Assert.Contains("glm4", result.Stderr);
    }

    [Fact]
    public void A_Token_Id_Outside_The_Vocabulary_Is_Refused()
    {
        var (folder, vocabulary, _) = TinyChatModel.Write(_dir.File("hf"));
        var result = GlmCli.Run("logits", "--model", folder, "--token-ids", $"1,{vocabulary.Tokens.Count + 5}", "--out", _dir.File("x.bin"));
        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"{vocabulary.Tokens.Count + 5}", result.Stderr);
    }

    [Fact]
    public void Info_On_A_Fused_Qkv_Gguf_Counts_The_Stored_Tensors_And_Says_Q_K_V_Are_Fused()
    {
        var spec = new TinyGlmSpec("glm", 160, 64, 2, 8, 2, 8, 96, 0.5, Bias: true, Tied: false);
        var checkpoint = new RandomGlmCheckpoint(spec, seed: 3);
        string separate = checkpoint.WriteGguf(_dir.File("separate.gguf"), GgmlType.F32);
        string fused = checkpoint.WithFusedQkv().WriteGguf(_dir.File("fused.gguf"), GgmlType.F32);
        var separateInfo = GlmCli.Run("info", "--model", separate);
        var fusedInfo = GlmCli.Run("info", "--model", fused);
        Assert.True(fusedInfo.ExitCode == 0, fusedInfo.Stderr);

        static string Line(string stdout, string key) => stdout.Split('\n').Single(line => line.StartsWith(key, StringComparison.Ordinal));
        Assert.Equal(Line(separateInfo.Stdout, "parameters"), Line(fusedInfo.Stdout, "parameters"));
        using (var file = GgufFile.Open(fused))
            Assert.Equal($"tensor types   F32×{file.Tensors.Count}", Line(fusedInfo.Stdout, "tensor types"));
        Assert.Contains("q/k/v bias: yes, q/k/v fused in one tensor", fusedInfo.Stdout);
        Assert.DoesNotContain("fused", separateInfo.Stdout);
    }

    [Fact]
    public void A_Fused_Qkv_Of_The_Wrong_Row_Count_Is_A_One_Line_Error()
    {
        var spec = new TinyGlmSpec("glm4", 160, 64, 2, 8, 2, 8, 96, 0.5, Bias: false, Tied: false);
        string gguf = new RandomGlmCheckpoint(spec, seed: 3).WithFusedQkv()
            .With($"model.layers.1.{GlmTensorNames.FusedQkv}.weight", ([64, 64], new float[64 * 64]))
            .WriteGguf(_dir.File("fused.gguf"), GgmlType.F32);
        var result = GlmCli.Run("info", "--model", gguf);
        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith("error: ", result.Stderr);
        Assert.Contains("fused.gguf: tensor 'blk.1.attn_qkv.weight' has shape [64,64], expected [96,64]", result.Stderr);
        Assert.DoesNotContain("   at ", result.Stderr);
    }

    [Fact]
    public void Info_On_A_Thudm_ChatGlm_Folder_Reads_Its_Config_Keys()
    {
        var spec = new TinyGlmSpec("glm", 160, 64, 2, 8, 2, 8, 96, 0.5, Bias: true, Tied: false, RopeTheta: 5e6);
        string folder = ThudmChatGlmCheckpoint.Write(new RandomGlmCheckpoint(spec, seed: 3), _dir.File("chatglm"));
        var result = GlmCli.Run("info", "--model", folder);
        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Contains("glm (llama.cpp: chatglm)", result.Stdout);
        Assert.Contains("8 heads, 2 kv heads, head dim 8, q/k/v bias: yes, q/k/v fused in one tensor", result.Stdout);
        Assert.Contains("4 of 8 dims rotate, theta 5000000", result.Stdout);
        Assert.Contains("context        96 tokens", result.Stdout);
    }
}
