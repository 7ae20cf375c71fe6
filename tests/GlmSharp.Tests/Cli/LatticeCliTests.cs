using System.Text.Json;
using GlmSharp.Tensors;
using GlmSharp.Tests.Support;

namespace GlmSharp.Tests.Cli;

/// <summary>`glm info` and `glm bench` on GGUF files whose matrices are of a lattice type (<see cref="RandomIqBlocks"/>).</summary>
public sealed class LatticeCliTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    public static TheoryData<GgmlType> Types() => new(RandomIqBlocks.LatticeTypes);

    /// <summary>glm4 at hidden 256, so that every matrix has rows of whole 256-value blocks.</summary>
    [Theory]
    [MemberData(nameof(Types))]
    public void Info_Names_The_Type_And_Bench_Runs_It(GgmlType type)
    {
        var spec = new TinyGlmSpec("glm4", 160, 256, 1, 4, 2, 64, 256, 0.5, Bias: true, Tied: false);
        string gguf = RandomIqBlocks.WriteModel(p => new RandomGlmCheckpoint(spec, seed: 5).WriteGguf(p, GgmlType.F32), _dir.File($"{type}.gguf"), type, seed: 6);

        var info = GlmCli.Run("info", "--model", gguf);
        Assert.True(info.ExitCode == 0, info.Stderr);
        Assert.Matches($@"{type}×\d+", info.Stdout);

        var bench = GlmCli.Run("bench", "--model", gguf, "--threads", "1", "--runs", "1", "--prompt", "8", "--gen", "4", "--json");
        Assert.True(bench.ExitCode == 0, bench.Stderr);
        using var report = JsonDocument.Parse(bench.Stdout);
        foreach (var key in new[] { "prefill_tok_s", "decode_tok_s" })
            Assert.True(report.RootElement.GetProperty("glmsharp").GetProperty(key).GetDouble() > 0, key);
    }
}
