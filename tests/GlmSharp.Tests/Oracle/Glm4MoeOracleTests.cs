using GlmSharp.Formats.Safetensors;
using GlmSharp.Models;
using GlmSharp.Tensors;
using GlmSharp.Tests.Support;
using Xunit.Abstractions;

namespace GlmSharp.Tests.Oracle;

/// <summary>
/// glm4_moe (llama.cpp glm4moe) with random weights: dense lead layers, sigmoid routing with a selection bias,
/// group-limited top-k, shared experts, QK-norm, a NextN layer. llama.cpp and GlmSharp must agree on every logit and on
/// greedy continuations, from GGUF and from the Hugging Face folder.
/// </summary>
[Trait("Oracle", "llama.cpp")]
public sealed class Glm4MoeOracleTests(ITestOutputHelper output)
{
    public static TheoryData<TinyMoeSpec> Shapes() =>
    [
        new TinyMoeSpec(160, 64, 3, 4, 2, 16, 96, Experts: 8, ExpertsPerToken: 2, ExpertWidth: 32, SharedExperts: 1, FirstDense: 1),
        new TinyMoeSpec(160, 64, 2, 4, 2, 16, 96, Experts: 16, ExpertsPerToken: 4, ExpertWidth: 24, SharedExperts: 2, FirstDense: 0,
            Groups: 4, GroupsKept: 2, Scaling: 2.5, QkNorm: true),
        new TinyMoeSpec(150, 67, 3, 4, 1, 16, 80, Experts: 6, ExpertsPerToken: 3, ExpertWidth: 40, SharedExperts: 1, FirstDense: 1,
            NormTopk: false, Bias: false, QkNorm: true),
        new TinyMoeSpec(160, 64, 2, 8, 2, 8, 96, Experts: 8, ExpertsPerToken: 2, ExpertWidth: 32, SharedExperts: 1, FirstDense: 1,
            NextN: 1, PartialRotary: 1.0),
    ];

    [Theory]
    [MemberData(nameof(Shapes))]
    public void F32_Logits_And_Greedy_Continuation_Match_LlamaCpp(TinyMoeSpec spec)
    {
        using var dir = new TempDirectory();
        var checkpoint = new RandomMoeCheckpoint(spec, seed: spec.Hidden + spec.Experts);
        string gguf = checkpoint.WriteGguf(dir.File("model.gguf"), GgmlType.F32);
        var prompt = spec.RandomPrompt(40, seed: 3);

        var expected = LlamaCpp.Logits(gguf, prompt, spec.Vocab, spec.Context);
        double fromGguf = LogitComparison.WorstRelativeError(GlmSharpRun.Logits(gguf, prompt), expected, spec.Vocab);
        double fromHf = LogitComparison.WorstRelativeError(GlmSharpRun.Logits(checkpoint.WriteHuggingFace(dir.File("hf")), prompt), expected, spec.Vocab);
        output.WriteLine($"{spec}: worst relative logit error {fromGguf:E2} (GGUF), {fromHf:E2} (HF)");
        Assert.True(fromGguf <= 1e-3 && fromHf <= 1e-3, $"worst relative logit error {fromGguf:E2} (GGUF), {fromHf:E2} (HF) > 1e-3");

        AssertRoutingVaries(gguf, prompt, spec);

        var shortPrompt = prompt[..6];
        Assert.Equal(LlamaCpp.Greedy(gguf, shortPrompt, 32, spec.Vocab, spec.Context), GlmSharpRun.Greedy(gguf, shortPrompt, 32));
    }

    /// <summary>The test sees the router only if rows choose different experts: many experts in use, sets differing by position.</summary>
    private static void AssertRoutingVaries(string gguf, int[] prompt, TinyMoeSpec spec)
    {
        var recorder = new TransferCountingBackend(GlmSharp.Kernels.Cpu.CpuBackend.Instance);
        using (var loaded = ModelLoader.Load(gguf, recorder)) GlmSharpRun.Logits(loaded, prompt);
        var firstLayer = recorder.ExpertChoices[0];
        int k = spec.ExpertsPerToken;
        var sets = Enumerable.Range(0, prompt.Length).Select(r => string.Join(",", firstLayer.Skip(r * k).Take(k).Order())).ToHashSet();
        int used = recorder.ExpertChoices.SelectMany(ids => ids).Distinct().Count();
        Assert.True(sets.Count >= 3, $"only {sets.Count} distinct expert sets over {prompt.Length} positions");
        Assert.True(used >= Math.Min(spec.Experts, 2 * k), $"only {used} of {spec.Experts} experts were used");
    }

    /// <summary>
    /// Both engines quantize each activation row to 8-bit blocks before the integer dot products, so where their fp32
    /// sums differ by one ulp a value can land on the other side of a rounding boundary and change its code by one. That
    /// is rare, but its effect is not small with coarse weights (4-bit codes), and when it happens in a key or value row
    /// every later position attends to the changed row. Measured per position (Q4_K, Q5_K and MXFP4, 24-40 positions): most
    /// positions agree within 2e-7, and after a flip the affected positions differ by 1e-2 to 2.7e-2 (Q5_K: a flip at
    /// position 4, positions 0-3 within 5e-7, every later one 1.5e-2 to 4.3e-2). The F32 test above
    /// is the exact check of the network; these bounds cover the flips.
    /// </summary>
    [Theory]
    [InlineData(GgmlType.Q8_0, 5e-3)]
    [InlineData(GgmlType.Q4_K, 5e-2)]
    [InlineData(GgmlType.Q5_K, 5e-2)]
    [InlineData(GgmlType.MXFP4, 5e-2)]
    public void Quantized_Experts_Match_LlamaCpp(GgmlType type, double bound)
    {
        using var dir = new TempDirectory();
        string gguf = new RandomMoeCheckpoint(TiledSpec, seed: 11).WriteGguf(dir.File("model.gguf"), type);
        AssertSameLogits(gguf, TiledSpec.RandomPrompt(40, seed: 4), $"{type}", bound);
    }

    /// <summary>Rows of 256 so that K-quant blocks tile every matrix (no fallback types).</summary>
    private static readonly TinyMoeSpec TiledSpec =
        new(160, 256, 3, 4, 2, 64, 256, Experts: 8, ExpertsPerToken: 2, ExpertWidth: 256, SharedExperts: 1, FirstDense: 1, QkNorm: true);

    private void AssertSameLogits(string gguf, int[] prompt, string label, double bound)
    {
        double error = LogitComparison.WorstRelativeError(GlmSharpRun.Logits(gguf, prompt), LlamaCpp.Logits(gguf, prompt, TiledSpec.Vocab, TiledSpec.Context), TiledSpec.Vocab);
        output.WriteLine($"{label}: worst relative logit error {error:E2}");
        Assert.True(error <= bound, $"{label}: worst relative logit error {error:E2} > {bound:E0}");
    }

    /// <summary>
    /// The files users download: llama.cpp's quantizer writes its Q4_K_M mix (Q6_K and Q8_0 rows among the Q4_K ones)
    /// and its MXFP4_MOE mix (MXFP4 experts, Q8_0 elsewhere) from an F32 file, and both engines run that file. The
    /// bound is the rounding-flip bound of the uniform types above.
    /// </summary>
    [Theory]
    [InlineData(QuantPreset.Q4_K_M)]
    [InlineData(QuantPreset.MXFP4_MOE)]
    public void LlamaCpps_Own_Mix_Gives_LlamaCpps_Logits(QuantPreset preset)
    {
        using var dir = new TempDirectory();
        string f32 = new RandomMoeCheckpoint(TiledSpec, seed: 12).WriteGguf(dir.File("f32.gguf"), GgmlType.F32);
        string gguf = dir.File($"{preset}.gguf");
        QuantPresetModels.Quantize(f32, gguf, preset);
        AssertSameLogits(gguf, TiledSpec.RandomPrompt(40, seed: 5), $"{preset}", 5e-2);
    }

    /// <summary>
    /// Hugging Face glm4_moe checkpoints as released. BF16: every tensor (norms, router and its bias too) is BF16 in the
    /// file, so the reference is llama.cpp on a GGUF of the BF16-rounded weights, its matrices BF16. Both engines round
    /// activations to BF16 for those products, and a one-ulp fp32 difference in a sum (the experts' summation order
    /// differs) then moves a value by a BF16 ulp now and then: measured 1.7e-3 to 4.8e-3 where both engines run the
    /// same BF16 GGUF, against 1e-6 for F32 above. FP8 with 128×128 block scales on every projection, experts
    /// included: against llama.cpp on an F32 GGUF of the weights dequantized by the format's definition. Hidden 192
    /// and expert width 160 leave partial scale blocks.
    /// </summary>
    [Theory]
    [InlineData(SafetensorsDtype.BF16)]
    [InlineData(SafetensorsDtype.F8_E4M3)]
    public void Bf16_And_Fp8_Hugging_Face_Checkpoints_Match_LlamaCpp(SafetensorsDtype dtype)
    {
        var spec = new TinyMoeSpec(160, 192, 3, 4, 2, 48, 256, Experts: 8, ExpertsPerToken: 2, ExpertWidth: 160, SharedExperts: 1, FirstDense: 1, QkNorm: true);
        using var dir = new TempDirectory();
        var checkpoint = new RandomMoeCheckpoint(spec, seed: 31);
        string hf, gguf;
        if (dtype == SafetensorsDtype.BF16)
        {
            hf = checkpoint.WriteHuggingFace(dir.File("hf"), SafetensorsDtype.BF16);
            gguf = checkpoint.RoundedTo(GgmlType.BF16).WriteGguf(dir.File("reference.gguf"), GgmlType.BF16);
        }
        else
        {
            var fp8 = new Fp8HfCheckpoint(checkpoint);
            hf = fp8.Write(dir.File("hf"));
            Assert.Contains("model.layers.1.mlp.experts.7.down_proj.weight", fp8.Dequantized.Keys);
            gguf = checkpoint.WithValues(fp8.Dequantized).WriteGguf(dir.File("reference.gguf"), GgmlType.F32);
        }
        var prompt = spec.RandomPrompt(32, seed: 6);
        double error = LogitComparison.WorstRelativeError(GlmSharpRun.Logits(hf, prompt), LlamaCpp.Logits(gguf, prompt, spec.Vocab, spec.Context), spec.Vocab);
        double bound = dtype == SafetensorsDtype.BF16 ? 1e-2 : 1e-4;
        output.WriteLine($"{dtype}: worst relative logit error {error:E2}");
        Assert.True(error <= bound, $"{dtype}: worst relative logit error {error:E2} > {bound:E0}");
    }
}
