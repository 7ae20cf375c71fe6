using GlmSharp.Formats.Gguf;
using GlmSharp.Tensors;
using GlmSharp.Tests.Support;

namespace GlmSharp.Tests.Cli;

/// <summary>`glm info`, `convert` and `quantize` on a glm4_moe checkpoint.</summary>
public sealed class MoeCliTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private static readonly TinyMoeSpec Spec = new(160, 64, 3, 4, 2, 16, 96, Experts: 8, ExpertsPerToken: 2, ExpertWidth: 32, SharedExperts: 1, FirstDense: 1, NextN: 1);

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Info_Describes_The_Experts_And_The_Active_Parameters()
    {
        string folder = new RandomMoeCheckpoint(Spec, seed: 2).WriteHuggingFace(_dir.File("hf"));
        var result = GlmCli.Run("info", "--model", folder);
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("glm4_moe (llama.cpp: glm4moe)", result.Stdout);
        Assert.Contains("8 routed (top 2, width 32) + 1 shared from layer 1", result.Stdout);
    }

    [Fact]
    public void Quantize_Writes_Merged_Expert_Tensors_And_The_NextN_Layer()
    {
        string folder = new RandomMoeCheckpoint(Spec, seed: 2).WriteHuggingFace(_dir.File("hf"));
        string gguf = _dir.File("moe-q8_0.gguf");
        var result = GlmCli.Run("quantize", folder, gguf, "--type", "q8_0");
        Assert.True(result.ExitCode == 0, result.Stderr);
        using (var file = GgufFile.Open(gguf))
        {
            var experts = file.Tensors.Single(t => t.Name == "blk.1.ffn_gate_exps.weight");
            Assert.Equal([8L, 32, 64], experts.Shape);
            Assert.Equal(GgmlType.Q8_0, experts.Type);
            Assert.Equal(GgmlType.F32, file.Tensors.Single(t => t.Name == "blk.1.ffn_gate_inp.weight").Type);
            Assert.Contains(file.Tensors, t => t.Name == "blk.3.nextn.eh_proj.weight");
            Assert.Equal(4u, file.Metadata.GetUInt("glm4moe.block_count"));
            Assert.Equal(1u, file.Metadata.GetUInt("glm4moe.nextn_predict_layers"));
        }
        var info = GlmCli.Run("info", "--model", gguf);
        Assert.Equal(0, info.ExitCode);
        Assert.Contains("3, hidden 64", info.Stdout);
    }
}
