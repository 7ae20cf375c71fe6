using GlmSharp.Models;
using GlmSharp.Tensors;
using GlmSharp.Tests.Support;
using Xunit.Abstractions;

namespace GlmSharp.Tests.Oracle;

/// <summary>
/// glm4_moe_lite (GLM-4.7-Flash; llama.cpp deepseek2) with random weights: MLA attention with and without the query
/// bottleneck, in both GGUF kv_b layouts (llama.cpp runs the split one absorbed, as GlmSharp always does, and the fused
/// one as plain multi-head attention), dense lead layers, sigmoid-routed experts. llama.cpp and GlmSharp must agree on
/// every logit and on greedy continuations, from GGUF and from the Hugging Face folder. The model without a query
/// bottleneck has 27 layers because this llama.cpp tells DeepSeek-V2-Lite (no q_a / q_b) apart by its layer count and
/// otherwise requires q_lora_rank.
/// </summary>
[Trait("Oracle", "llama.cpp")]
public sealed class Glm4MoeLiteOracleTests(ITestOutputHelper output)
{
    public static TheoryData<TinyMlaSpec, MlaGgufLayout> Shapes() => new()
    {
        { new TinyMlaSpec(160, 64, 3, 4, QLora: 48, KvLora: 32, Nope: 24, Rope: 16, ValueDim: 32, DenseIntermediate: 96,
            Experts: 8, ExpertsPerToken: 2, ExpertWidth: 32, SharedExperts: 1, FirstDense: 1, Scaling: 1.8, NextN: 1), MlaGgufLayout.SplitKeyValue },
        { new TinyMlaSpec(150, 96, 27, 6, QLora: null, KvLora: 64, Nope: 16, Rope: 8, ValueDim: 24, DenseIntermediate: 80,
            Experts: 6, ExpertsPerToken: 3, ExpertWidth: 40, SharedExperts: 2, FirstDense: 0), MlaGgufLayout.SplitKeyValue },
        { new TinyMlaSpec(160, 64, 3, 2, QLora: 32, KvLora: 48, Nope: 32, Rope: 32, ValueDim: 16, DenseIntermediate: 96,
            Experts: 16, ExpertsPerToken: 4, ExpertWidth: 24, SharedExperts: 1, FirstDense: 2, Groups: 4, GroupsKept: 2, Scaling: 2.5), MlaGgufLayout.FusedKeyValue },
        { new TinyMlaSpec(160, 64, 2, 4, QLora: 48, KvLora: 32, Nope: 24, Rope: 16, ValueDim: 32, DenseIntermediate: 96,
            Experts: 8, ExpertsPerToken: 2, ExpertWidth: 32, SharedExperts: 1, FirstDense: 1, NormTopk: false), MlaGgufLayout.FusedKeyValue },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void F32_Logits_And_Greedy_Continuation_Match_LlamaCpp(TinyMlaSpec spec, MlaGgufLayout layout)
    {
        using var dir = new TempDirectory();
        var checkpoint = new RandomMlaCheckpoint(spec, seed: spec.Hidden + spec.Experts);
        string gguf = checkpoint.WriteGguf(dir.File("model.gguf"), GgmlType.F32, layout);
        var prompt = spec.RandomPrompt(40, seed: 3);

        var expected = LlamaCpp.Logits(gguf, prompt, spec.Vocab, spec.Context);
        double fromGguf = LogitComparison.WorstRelativeError(GlmSharpRun.Logits(gguf, prompt), expected, spec.Vocab);
        double fromHf = LogitComparison.WorstRelativeError(GlmSharpRun.Logits(checkpoint.WriteHuggingFace(dir.File("hf")), prompt), expected, spec.Vocab);
        output.WriteLine($"{spec} {layout}: worst relative logit error {fromGguf:E2} (GGUF), {fromHf:E2} (HF)");
        Assert.True(fromGguf <= 1e-3 && fromHf <= 1e-3, $"worst relative logit error {fromGguf:E2} (GGUF), {fromHf:E2} (HF) > 1e-3");

        var shortPrompt = prompt[..6];
        Assert.Equal(LlamaCpp.Greedy(gguf, shortPrompt, 32, spec.Vocab, spec.Context), GlmSharpRun.Greedy(gguf, shortPrompt, 32));
    }
}
