using GlmSharp.Kernels;
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

    /// <summary>
    /// `glm convert` of a Hugging Face folder (with its MTP layer) writes what this llama.cpp's deepseek2 loader reads:
    /// kv_b_proj split per head into attn_k_b (transposed) and attn_v_b, and the main stack only (the loader refuses a
    /// file with the MTP layer: MlaMtpOracleTests). llama.cpp runs the file with the logits GlmSharp computes from the folder.
    /// </summary>
    [Fact]
    public void Glm_Convert_Writes_A_File_LlamaCpp_Runs_With_Our_Logits()
    {
        var spec = new TinyMlaSpec(160, 64, 3, 4, QLora: 48, KvLora: 32, Nope: 24, Rope: 16, ValueDim: 32, DenseIntermediate: 96,
            Experts: 8, ExpertsPerToken: 2, ExpertWidth: 32, SharedExperts: 1, FirstDense: 1, NextN: 1);
        using var dir = new TempDirectory();
        string hf = new RandomMlaCheckpoint(spec, seed: 23).WriteHuggingFace(dir.File("hf"));
        string gguf = dir.File("converted.gguf");
        var convert = GlmCli.Run("convert", hf, gguf, "--type", "f32");
        Assert.True(convert.ExitCode == 0, convert.Stderr);
        using (var file = GlmSharp.Formats.Gguf.GgufFile.Open(gguf))
        {
            Assert.Contains(file.Tensors, t => t.Name == "blk.2.attn_k_b.weight");
            Assert.DoesNotContain(file.Tensors, t => t.Name.Contains("attn_kv_b", StringComparison.Ordinal) || t.Name.StartsWith("blk.3.", StringComparison.Ordinal));
            Assert.Equal(3u, file.Metadata.GetUInt("deepseek2.block_count"));
        }
        var prompt = spec.RandomPrompt(30, seed: 2);

        double error = LogitComparison.WorstRelativeError(GlmSharpRun.Logits(hf, prompt), LlamaCpp.Logits(gguf, prompt, spec.Vocab, spec.Context), spec.Vocab);
        output.WriteLine($"converted: worst relative logit error {error:E2}");
        Assert.True(error <= 1e-3, $"worst relative logit error {error:E2} > 1e-3");
    }

    /// <summary>
    /// Q8_0 matrices everywhere, the per-head k_b and v_b included (llama.cpp multiplies them with Q8_0-quantized queries
    /// and latents, as GlmSharp's grouped per-head products do). Rounding flips of the activation codes bound the error
    /// as in the glm4_moe test (Glm4MoeOracleTests.Quantized_Experts_Match_LlamaCpp); dims are multiples of 32.
    /// </summary>
    [Fact]
    public void Q8_0_Weights_Match_LlamaCpp()
    {
        var spec = new TinyMlaSpec(160, 64, 3, 4, QLora: 64, KvLora: 64, Nope: 32, Rope: 32, ValueDim: 32, DenseIntermediate: 96,
            Experts: 8, ExpertsPerToken: 2, ExpertWidth: 32, SharedExperts: 1, FirstDense: 1);
        using var dir = new TempDirectory();
        string gguf = new RandomMlaCheckpoint(spec, seed: 29).WriteGguf(dir.File("model.gguf"), GgmlType.Q8_0);
        using (var file = GlmSharp.Formats.Gguf.GgufFile.Open(gguf))
            Assert.Equal(GgmlType.Q8_0, file.Tensors.Single(t => t.Name == "blk.1.attn_k_b.weight").Type);
        var prompt = spec.RandomPrompt(40, seed: 4);

        double error = LogitComparison.WorstRelativeError(GlmSharpRun.Logits(gguf, prompt), LlamaCpp.Logits(gguf, prompt, spec.Vocab, spec.Context), spec.Vocab);
        output.WriteLine($"Q8_0: worst relative logit error {error:E2}");
        Assert.True(error <= 5e-3, $"Q8_0: worst relative logit error {error:E2} > 5e-3");
    }

    /// <summary>
    /// GLM-4.7-Flash's attention shapes (20 heads, q_lora_rank 768, kv_lora_rank 512, nope 192 + rope 64, v 256) in a
    /// model of small hidden size, vocabulary and experts: the widths the SIMD kernels meet in the real model, a latent
    /// row of 576 that 20 query heads read at once.
    /// </summary>
    [Fact]
    public void Glm_4_7_Flash_Attention_Shapes_Match_LlamaCpp()
    {
        var spec = new TinyMlaSpec(128, 256, 2, 20, QLora: 768, KvLora: 512, Nope: 192, Rope: 64, ValueDim: 256, DenseIntermediate: 256,
            Experts: 8, ExpertsPerToken: 4, ExpertWidth: 64, SharedExperts: 1, FirstDense: 1, Scaling: 1.8);
        using var dir = new TempDirectory();
        string gguf = new RandomMlaCheckpoint(spec, seed: 47).WriteGguf(dir.File("model.gguf"), GgmlType.F32);
        var prompt = spec.RandomPrompt(70, seed: 9);

        double error = LogitComparison.WorstRelativeError(GlmSharpRun.Logits(gguf, prompt), LlamaCpp.Logits(gguf, prompt, spec.Vocab, spec.Context), spec.Vocab);
        output.WriteLine($"GLM-4.7-Flash attention shapes: worst relative logit error {error:E2}");
        Assert.True(error <= 1e-3, $"worst relative logit error {error:E2} > 1e-3");
        Assert.Equal(LlamaCpp.Greedy(gguf, prompt[..4], 16, spec.Vocab, spec.Context), GlmSharpRun.Greedy(gguf, prompt[..4], 16));
    }

    /// <summary>
    /// Both engines store the latent rows rounded to the cache type and round each query alike (fp16, or Q8_0 blocks, for
    /// the products with them). The bounds and the "clearly closer than an F32 cache" check are those of the dense
    /// GLM test (DenseGlmOracleTests), whose reasons hold here: llama.cpp rounds softmax weights to fp16 with an F16
    /// cache, and a key projection one fp32 step from a Q8_0 rounding boundary can land on the other code. Rope 32 and
    /// kv_lora_rank 64 keep the latent and its rope part whole Q8_0 blocks; 150 positions span three attention tiles.
    /// </summary>
    [Theory]
    [InlineData(KvCacheType.F16, 1.5e-3)]
    [InlineData(KvCacheType.Q8_0, 2e-3)]
    public void Reduced_Precision_Cache_Logits_Match_LlamaCpp_With_The_Same_Cache_Type(KvCacheType cache, double tolerance)
    {
        var spec = new TinyMlaSpec(160, 128, 2, 4, QLora: 64, KvLora: 64, Nope: 32, Rope: 32, ValueDim: 32, DenseIntermediate: 96,
            Experts: 8, ExpertsPerToken: 2, ExpertWidth: 32, SharedExperts: 1, FirstDense: 1, Context: 160);
        using var dir = new TempDirectory();
        string gguf = new RandomMlaCheckpoint(spec, seed: 31).WriteGguf(dir.File("model.gguf"), GgmlType.F32);
        var prompt = spec.RandomPrompt(150, seed: 8);

        ReducedPrecisionCache.AssertMatchesLlamaCpp(output, gguf, prompt, spec.Vocab, spec.Context, cache, tolerance);
    }

    /// <summary>
    /// Several sequences of different lengths in one step, prefill and decode rows mixed, through one context: every row
    /// gets llama.cpp's logits for the same schedule, and the logits it gets when its sequence runs alone.
    /// </summary>
    [Fact]
    public void Mixed_Batch_Matches_LlamaCpp_And_Each_Sequence_Alone()
    {
        var spec = new TinyMlaSpec(160, 64, 3, 4, QLora: 48, KvLora: 32, Nope: 24, Rope: 16, ValueDim: 32, DenseIntermediate: 96,
            Experts: 8, ExpertsPerToken: 2, ExpertWidth: 32, SharedExperts: 1, FirstDense: 1);
        using var dir = new TempDirectory();
        string gguf = new RandomMlaCheckpoint(spec, seed: 17).WriteGguf(dir.File("model.gguf"), GgmlType.F32);
        var schedule = new MixedBatchSchedule(spec.RandomPrompt, sequences: 6, decodeSteps: 5, seed: 6);

        var expected = LlamaCpp.ScheduleLogits(gguf, schedule, spec.Vocab);
        using var loaded = ModelLoader.Load(gguf);
        var batched = GlmSharpRun.ScheduleLogits(loaded, schedule);
        double error = LogitComparison.WorstRelativeError(batched, expected, spec.Vocab);
        double alone = LogitComparison.WorstRelativeError(batched, GlmSharpRun.ScheduleLogitsAlone(loaded, schedule), spec.Vocab);
        output.WriteLine($"6 sequences, {schedule.TotalRows} rows in {schedule.Steps.Count} steps: {error:E2} from llama.cpp, {alone:E2} from each sequence alone");
        Assert.True(error <= 1e-3, $"worst relative logit error {error:E2} > 1e-3");
        Assert.True(alone <= 2e-6, $"batched rows differ from their sequences run alone by {alone:E2} > 2e-6");
    }
}
