using GlmSharp.Errors;
using GlmSharp.Formats.Gguf;
using GlmSharp.Models;
using GlmSharp.Tensors;
using GlmSharp.Tests.Support;
using LLama.Exceptions;
using Xunit.Abstractions;

namespace GlmSharp.Tests.Oracle;

/// <summary>
/// GGUFs whose attention is one fused <c>blk.N.attn_qkv</c> tensor (plus <c>attn_qkv.bias</c> where the model has
/// biases), the layout llama.cpp writes for chatglm and loads for glm4: GlmSharp hands out its q, k and v rows as the
/// three projections, and must give llama.cpp's logits at every position and its greedy continuation.
/// </summary>
[Trait("Oracle", "llama.cpp")]
public sealed class FusedQkvOracleTests(ITestOutputHelper output)
{
    /// <summary>
    /// Bounds as for separate projections (<see cref="DenseGlmOracleTests"/>): the rows multiplied are the same, so
    /// only the fp32 summation order can differ.
    /// </summary>
    public static TheoryData<TinyGlmSpec, GgmlType, double> Cases() => new()
    {
        { new TinyGlmSpec("glm4", 160, 64, 2, 4, 4, 16, 96, 0.5, Bias: true, Tied: false), GgmlType.F32, 1e-3 },   // MHA, bias
        { new TinyGlmSpec("glm4", 192, 96, 2, 8, 2, 16, 128, 0.5, Bias: false, Tied: true), GgmlType.F32, 1e-3 },  // GQA 4, q rows 128 ≠ hidden 96
        { new TinyGlmSpec("glm4", 160, 64, 2, 8, 2, 8, 96, 0.5, Bias: true, Tied: false), GgmlType.Q8_0, 1e-4 },   // GQA 4, bias
        // chatglm needs heads·head_dim = hidden whatever the layout (llama.cpp checks attn_output as [hidden, hidden]).
        { new TinyGlmSpec("glm", 160, 64, 2, 4, 4, 16, 96, 0.5, Bias: true, Tied: false), GgmlType.F32, 1e-3 },    // MHA, bias: glm-4-9b-chat
        { new TinyGlmSpec("glm", 160, 64, 2, 8, 1, 8, 96, 1.0, Bias: false, Tied: true), GgmlType.F32, 1e-3 },     // GQA 8, full rotary, tied
        { new TinyGlmSpec("glm", 160, 64, 2, 8, 2, 8, 96, 0.5, Bias: true, Tied: false), GgmlType.Q4_0, 1e-4 },    // GQA 4, bias
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Fused_Qkv_Logits_And_Greedy_Continuation_Match_LlamaCpp(TinyGlmSpec spec, GgmlType type, double tolerance)
    {
        using var dir = new TempDirectory();
        var checkpoint = new RandomGlmCheckpoint(spec, seed: spec.Hidden * 100 + spec.KvHeads).WithFusedQkv();
        string gguf = checkpoint.WriteGguf(dir.File("fused.gguf"), type);
        AssertFusedLayout(gguf, spec);
        var prompt = spec.RandomPrompt(40, seed: 6);

        var expected = LlamaCpp.Logits(gguf, prompt, spec.Vocab, spec.Context);
        double error = LogitComparison.WorstRelativeError(GlmSharpRun.Logits(gguf, prompt), expected, spec.Vocab);
        output.WriteLine($"{spec} {type}: worst relative logit error {error:E2} (bound {tolerance:E0})");
        Assert.True(error <= tolerance, $"{spec} {type}: worst relative logit error {error:E2} > {tolerance:E0}");

        var shortPrompt = prompt[..6];
        Assert.Equal(LlamaCpp.Greedy(gguf, shortPrompt, 24, spec.Vocab, spec.Context), GlmSharpRun.Greedy(gguf, shortPrompt, 24));
    }

    /// <summary>
    /// A layer with the fused tensor and any separate q/k/v tensor (weight or bias) is refused by llama.cpp, which reads
    /// no attn_q/k/v where it finds attn_qkv and then counts unread tensors; GlmSharp refuses it too, naming both.
    /// </summary>
    [Theory]
    [InlineData("glm4", "self_attn.q_proj.weight", "blk.0.attn_q.weight")]
    [InlineData("glm", "self_attn.v_proj.bias", "blk.0.attn_v.bias")]
    public void A_Layer_With_Fused_And_Separate_Qkv_Is_Refused_Like_LlamaCpp(string modelType, string separate, string separateGguf)
    {
        var spec = new TinyGlmSpec(modelType, 160, 64, 2, 8, 2, 8, 96, 0.5, Bias: true, Tied: false);
        using var dir = new TempDirectory();
        var checkpoint = new RandomGlmCheckpoint(spec, seed: 2);
        var mixed = checkpoint.WithFusedQkv().With($"model.layers.0.{separate}", checkpoint.Tensors[$"model.layers.0.{separate}"]);
        string gguf = mixed.WriteGguf(dir.File("mixed.gguf"), GgmlType.F32);

        Assert.Throws<LoadWeightsFailedException>(() => LlamaCpp.Logits(gguf, [1, 2], spec.Vocab, spec.Context));
        var e = Assert.Throws<ModelFormatException>(() => ModelLoader.Load(gguf).Dispose());
        Assert.Contains("mixed.gguf", e.Message);
        Assert.Contains("'blk.0.attn_qkv.weight'", e.Message);
        Assert.Contains($"'{separateGguf}'", e.Message);
    }

    private static void AssertFusedLayout(string gguf, TinyGlmSpec spec)
    {
        using var file = GgufFile.Open(gguf);
        var names = file.Tensors.Select(t => t.Name).ToHashSet();
        Assert.Contains("blk.0.attn_qkv.weight", names);
        Assert.Equal(spec.Bias, names.Contains("blk.0.attn_qkv.bias"));
        Assert.DoesNotContain(names, n => n.Contains("attn_q.", StringComparison.Ordinal) || n.Contains("attn_k.", StringComparison.Ordinal)
            || n.Contains("attn_v.", StringComparison.Ordinal));
    }
}
