using GlmSharp.Kernels;
using GlmSharp.Models;
using GlmSharp.Tensors;
using GlmSharp.Tests.Support;
using Xunit.Abstractions;

namespace GlmSharp.Tests.Oracle;

/// <summary>
/// glm_moe_dsa (GLM-5; llama.cpp glm-dsa) with random weights: absorbed MLA whose every row attends only to the
/// index_topk positions its layer's lightning indexer chose, IndexShare layers that reuse the last full layer's choice,
/// dense lead layers and sigmoid-routed experts. Prompts are longer than top-k (8 to 32), so the sparse path decides the
/// logits. This llama.cpp builds the glm-dsa graph only with rope 64 and indexer key length 128 (GLM-5's own), so every
/// model here has those; heads, ranks, experts, top-k and the layer pattern vary. Its glm-dsa loader reads only the split
/// attn_k_b / attn_v_b layout, so the legacy fused kv_b is checked through the Hugging Face folder (whose kv_b_proj is
/// fused) and a fused GGUF against the split one.
/// </summary>
[Trait("Oracle", "llama.cpp")]
public sealed class GlmMoeDsaOracleTests(ITestOutputHelper output)
{
    private static readonly TinyMlaSpec[] Specs =
    [
        new TinyMlaSpec(160, 64, 3, 4, QLora: 48, KvLora: 32, Nope: 24, Rope: 64, ValueDim: 32, DenseIntermediate: 96,
            Experts: 8, ExpertsPerToken: 2, ExpertWidth: 32, SharedExperts: 1, FirstDense: 1, Scaling: 2.5, NextN: 1, Dsa: new(Heads: 16, TopK: 8, "FFF")),
        new TinyMlaSpec(150, 96, 4, 2, QLora: 32, KvLora: 64, Nope: 16, Rope: 64, ValueDim: 24, DenseIntermediate: 80,
            Experts: 6, ExpertsPerToken: 3, ExpertWidth: 40, SharedExperts: 2, FirstDense: 0, Dsa: new(Heads: 8, TopK: 16, "FSFS")),
        new TinyMlaSpec(160, 64, 3, 6, QLora: 64, KvLora: 48, Nope: 32, Rope: 64, ValueDim: 16, DenseIntermediate: 96,
            Experts: 16, ExpertsPerToken: 4, ExpertWidth: 24, SharedExperts: 1, FirstDense: 2, Groups: 4, GroupsKept: 2, Dsa: new(Heads: 32, TopK: 32, "FSS")),
    ];

    public static TheoryData<TinyMlaSpec> Shapes()
    {
        var data = new TheoryData<TinyMlaSpec>();
        foreach (var spec in Specs) data.Add(spec);
        return data;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Sparse_Logits_And_Greedy_Continuation_Match_LlamaCpp(TinyMlaSpec spec)
    {
        using var dir = new TempDirectory();
        var checkpoint = new RandomMlaCheckpoint(spec, seed: spec.Hidden + spec.Experts + spec.Layers);
        string gguf = checkpoint.WriteGguf(dir.File("model.gguf"), GgmlType.F32);
        var prompt = spec.RandomPrompt(3 * spec.Dsa!.TopK, seed: 3);

        var expected = LlamaCpp.Logits(gguf, prompt, spec.Vocab, spec.Context);
        double fromGguf = LogitComparison.WorstRelativeError(GlmSharpRun.Logits(gguf, prompt), expected, spec.Vocab);
        double fromHf = LogitComparison.WorstRelativeError(GlmSharpRun.Logits(checkpoint.WriteHuggingFace(dir.File("hf")), prompt), expected, spec.Vocab);
        output.WriteLine($"{spec.Dsa}: worst relative logit error {fromGguf:E2} (GGUF), {fromHf:E2} (HF)");
        Assert.True(fromGguf <= 1e-3 && fromHf <= 1e-3, $"worst relative logit error {fromGguf:E2} (GGUF), {fromHf:E2} (HF) > 1e-3");

        var longPrompt = prompt[..(spec.Dsa.TopK + 4)];
        Assert.Equal(LlamaCpp.Greedy(gguf, longPrompt, 24, spec.Vocab, spec.Context), GlmSharpRun.Greedy(gguf, longPrompt, 24));
    }

    /// <summary>
    /// `glm convert` of a Hugging Face folder with IndexShare and an MTP layer writes what llama.cpp's glm-dsa loader reads:
    /// the split attn_k_b / attn_v_b, indexer tensors on the full layers only, the indexer types of the main layers, and
    /// the MTP layer appended as blk.4 with an indexer of its own (block_count 5, nextn_predict_layers 1).
    /// </summary>
    [Fact]
    public void Glm_Convert_Writes_A_File_LlamaCpp_Runs_With_Our_Logits()
    {
        var spec = Specs[1] with { NextN = 1 };
        using var dir = new TempDirectory();
        string hf = new RandomMlaCheckpoint(spec, seed: 43).WriteHuggingFace(dir.File("hf"));
        string gguf = dir.File("converted.gguf");
        var convert = GlmCli.Run("convert", hf, gguf, "--type", "f32");
        Assert.True(convert.ExitCode == 0, convert.Stderr);
        using (var file = GlmSharp.Formats.Gguf.GgufFile.Open(gguf))
        {
            Assert.Contains(file.Tensors, t => t.Name == "blk.2.indexer.attn_q_b.weight");
            Assert.DoesNotContain(file.Tensors, t => t.Name.StartsWith("blk.1.indexer", StringComparison.Ordinal));
            Assert.Contains(file.Tensors, t => t.Name == "blk.4.indexer.attn_q_b.weight");
            Assert.Contains(file.Tensors, t => t.Name == "blk.4.nextn.eh_proj.weight");
            Assert.Equal([1u, 0u, 1u, 0u], file.Metadata.GetArray<uint>("glm-dsa.attention.indexer.types"));
            Assert.Equal(5u, file.Metadata.GetUInt("glm-dsa.block_count"));
            Assert.Equal(1u, file.Metadata.GetUInt("glm-dsa.nextn_predict_layers"));
        }
        var prompt = spec.RandomPrompt(40, seed: 2);

        double error = LogitComparison.WorstRelativeError(GlmSharpRun.Logits(hf, prompt), LlamaCpp.Logits(gguf, prompt, spec.Vocab, spec.Context), spec.Vocab);
        output.WriteLine($"converted: worst relative logit error {error:E2}");
        Assert.True(error <= 1e-3, $"worst relative logit error {error:E2} > 1e-3");
    }

    /// <summary>
    /// The test above can fail: with top-k raised past the prompt the same weights attend densely, and the logits move far
    /// beyond the bound (while llama.cpp still agrees with us on the dense file).
    /// </summary>
    [Fact]
    public void Top_K_Shorter_Than_The_Prompt_Changes_The_Logits_As_In_LlamaCpp()
    {
        var spec = Specs[0];
        using var dir = new TempDirectory();
        string sparse = new RandomMlaCheckpoint(spec, seed: 5).WriteGguf(dir.File("sparse.gguf"), GgmlType.F32);
        string dense = GgufRewrite.WithMetadata(sparse, dir.File("dense.gguf"), new Dictionary<string, object?> { ["glm-dsa.attention.indexer.top_k"] = 1024u });
        var prompt = spec.RandomPrompt(40, seed: 4);

        var sparseLogits = GlmSharpRun.Logits(sparse, prompt);
        var denseLogits = GlmSharpRun.Logits(dense, prompt);
        double apart = LogitComparison.WorstRelativeError(sparseLogits, denseLogits, spec.Vocab);
        double denseError = LogitComparison.WorstRelativeError(denseLogits, LlamaCpp.Logits(dense, prompt, spec.Vocab, spec.Context), spec.Vocab);
        output.WriteLine($"sparse vs dense: {apart:E2}; dense vs llama.cpp: {denseError:E2}");
        Assert.True(apart > 1e-2, $"top-k {spec.Dsa!.TopK} and top-k 1024 give logits only {apart:E2} apart");
        Assert.True(denseError <= 1e-3, $"dense: worst relative logit error {denseError:E2} > 1e-3");
    }

    /// <summary>Several sequences longer than top-k in one context, prefill and decode rows mixed: llama.cpp's logits, and each sequence's alone.</summary>
    [Fact]
    public void Mixed_Batch_Matches_LlamaCpp_And_Each_Sequence_Alone()
    {
        var spec = Specs[1] with { Dsa = new(Heads: 8, TopK: 8, "FSFS") };
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

    /// <summary>
    /// Both engines store the latent rows and the indexer keys rounded to the cache type; the bounds and the "clearly closer
    /// than an F32 cache" check are those of the MLA test (Glm4MoeLiteOracleTests).
    /// </summary>
    [Theory]
    [InlineData(KvCacheType.F16, 1.5e-3)]
    [InlineData(KvCacheType.Q8_0, 2e-3)]
    public void Reduced_Precision_Cache_Logits_Match_LlamaCpp_With_The_Same_Cache_Type(KvCacheType cache, double tolerance)
    {
        var spec = Specs[0];
        using var dir = new TempDirectory();
        string gguf = new RandomMlaCheckpoint(spec, seed: 31).WriteGguf(dir.File("model.gguf"), GgmlType.F32);
        var prompt = spec.RandomPrompt(60, seed: 8);

        ReducedPrecisionCache.AssertMatchesLlamaCpp(output, gguf, prompt, spec.Vocab, spec.Context, cache, tolerance);
    }

    /// <summary>
    /// A Hugging Face FP8 checkpoint (every decoder projection F8_E4M3 with 128×128 block scales, the indexer's wq_b, wk and
    /// weights_proj included; kv_b_proj split per head at load) against llama.cpp running an F32 GGUF of its real weights.
    /// </summary>
    [Fact]
    public void Fp8_Checkpoint_Gives_LlamaCpps_Logits_For_The_Dequantized_Weights()
    {
        var spec = Specs[0];
        using var dir = new TempDirectory();
        var checkpoint = new RandomMlaCheckpoint(spec, seed: 41);
        var fp8 = new Fp8HfCheckpoint(checkpoint);
        string hf = fp8.Write(dir.File("hf-fp8"));
        Assert.Contains("model.layers.0.self_attn.indexer.wq_b.weight", fp8.Dequantized.Keys);
        string gguf = checkpoint.WithValues(fp8.Dequantized).WriteGguf(dir.File("reference.gguf"), GgmlType.F32);
        var prompt = spec.RandomPrompt(3 * spec.Dsa!.TopK, seed: 6);

        double error = LogitComparison.WorstRelativeError(GlmSharpRun.Logits(hf, prompt), LlamaCpp.Logits(gguf, prompt, spec.Vocab, spec.Context), spec.Vocab);
        output.WriteLine($"FP8: worst relative logit error {error:E2}");
        Assert.True(error <= 1e-3, $"FP8: worst relative logit error {error:E2} > 1e-3");
    }

    /// <summary>The legacy fused attn_kv_b layout, which this llama.cpp's glm-dsa loader refuses, gives the split layout's logits.</summary>
    [Fact]
    public void Fused_Kv_B_File_Gives_The_Split_Files_Logits()
    {
        var spec = Specs[0];
        using var dir = new TempDirectory();
        var checkpoint = new RandomMlaCheckpoint(spec, seed: 9);
        string split = checkpoint.WriteGguf(dir.File("split.gguf"), GgmlType.F32);
        string fused = checkpoint.WriteGguf(dir.File("fused.gguf"), GgmlType.F32, MlaGgufLayout.FusedKeyValue);
        var prompt = spec.RandomPrompt(30, seed: 2);

        double error = LogitComparison.WorstRelativeError(GlmSharpRun.Logits(fused, prompt), GlmSharpRun.Logits(split, prompt), spec.Vocab);
        output.WriteLine($"fused vs split kv_b: {error:E2}");
        Assert.True(error <= 1e-4, $"fused and split kv_b differ by {error:E2}");
    }
}
