using System.Runtime.InteropServices;
using GlmSharp.Kernels;
using GlmSharp.Tensors;
using GlmSharp.Tests.Oracle;
using GlmSharp.Tests.Support;

namespace GlmSharp.Tests.Cli;

/// <summary>`--cache-type` on the commands that run a model: it reaches the session, and a bad value fails in one line.</summary>
public sealed class CacheTypeCliTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Trait("Oracle", "llama.cpp")]
    [Fact]
    public void Logits_With_A_Q8_0_Cache_Match_LlamaCpp_With_A_Q8_0_Cache()
    {
        var spec = new TinyGlmSpec("glm4", 160, 64, 2, 4, 2, 32, 96, 0.5, Bias: true, Tied: false);
        string gguf = new RandomGlmCheckpoint(spec, seed: 41).WriteGguf(_dir.File("model.gguf"), GgmlType.F32);
        int[] tokens = [3, 17, 42, 99, 150, 7, 8, 64, 1, 2];
        string outFile = _dir.File("logits.bin");
        var result = GlmCli.Run("logits", "--model", gguf, "--token-ids", string.Join(",", tokens), "--out", outFile, "--cache-type", "q8_0");
        Assert.Equal(0, result.ExitCode);
        var ours = MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(outFile)).ToArray();
        var theirs = LlamaCpp.Logits(gguf, tokens, spec.Vocab, spec.Context, KvCacheType.Q8_0);
        // Q8_0 attention in both engines differs only in fp32 summation order (see DenseGlmOracleTests); the default
        // F16 cache would be about 1e-2 away.
        double error = LogitComparison.WorstRelativeError(ours, theirs, spec.Vocab);
        Assert.True(error <= 1e-4, $"worst relative logit error {error:E2}");
    }

    [Fact]
    public void Info_Shows_The_Cache_Bytes_Per_Token_Of_Each_Type()
    {
        var (folder, _, spec) = TinyChatModel.Write(_dir.File("hf"));
        var result = GlmCli.Run("info", "--model", folder);
        Assert.Equal(0, result.ExitCode);
        // keys and values × layers × kv heads × head dim values of 4 or 2 bytes; head dim 16 holds no Q8_0 block
        Assert.Equal(16, spec.HeadDim);
        double f32 = 2.0 * spec.Layers * spec.KvHeads * spec.HeadDim * 4 / 1024;
        Assert.Contains(FormattableString.Invariant($"per token f32 {f32:0.##} KiB, f16 {f32 / 2:0.##} KiB, q8_0 n/a"), result.Stdout);
    }

    public static TheoryData<string[]> CommandsWithABadCacheType() =>
    [
        ["generate", "--token-ids", "1,2,3"],
        ["chat"],
        ["perplexity", "--file", typeof(CacheTypeCliTests).Assembly.Location], // any file: the command stops at --cache-type
        ["logits", "--token-ids", "1,2,3", "--out", "logits.bin"],
        ["bench"],
    ];

    [Theory]
    [MemberData(nameof(CommandsWithABadCacheType))]
    public void An_Unknown_Cache_Type_Is_A_One_Line_Error_Listing_The_Supported_Ones(string[] command)
    {
        var result = GlmCli.Run([.. command, "--cache-type", "q4_1"]);
        Assert.Equal(1, result.ExitCode);
        Assert.Equal("error: --cache-type q4_1: must be one of f32, f16, q8_0", result.Stderr.Trim());
    }

    [Fact]
    public void A_Q8_0_Cache_For_A_Head_Size_That_Is_Not_A_Multiple_Of_32_Is_A_One_Line_Error_Naming_It()
    {
        var (folder, _, spec) = TinyChatModel.Write(_dir.File("hf"));
        var result = GlmCli.Run("generate", "--model", folder, "--token-ids", "1,2,3", "--cache-type", "q8_0");
        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith("error: ", result.Stderr);
        Assert.Contains($"head size is {spec.HeadDim}", result.Stderr);
        Assert.Single(result.Stderr.Trim().Split('\n'));
    }
}
