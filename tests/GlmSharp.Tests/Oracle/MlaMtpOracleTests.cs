using GlmSharp.Formats.Gguf;
using GlmSharp.Kernels.Cpu;
using GlmSharp.Models;
using GlmSharp.Tensors;
using GlmSharp.Tests.Kernels;
using GlmSharp.Tests.Support;
using Xunit.Abstractions;

namespace GlmSharp.Tests.Oracle;

/// <summary>
/// The multi-token-prediction layers of the MLA models. glm_moe_dsa (GLM-5): this llama.cpp has a draft graph for it
/// (<see cref="LlamaCppNextN"/>), run here on the same tokens and hidden states as GlmSharp's layer; that graph leaves the
/// layer's DSA indexer out and attends densely, so it is compared on sequences no longer than index_topk, where the
/// sparse choice keeps every position; the indexer itself is checked by running the layer as a one-layer glm-dsa model
/// on a longer sequence. glm4_moe_lite (GLM-4.7-Flash, llama.cpp deepseek2): llama.cpp has no draft graph, so the layer
/// runs as a one-layer deepseek2 model; this llama.cpp refuses a deepseek2 file that carries the layer.
/// Every file holds F32 weights and every cache F32 values, so the engines differ by summation order only: the bound is
/// the 1e-3 of the main-model oracle tests (Glm4MoeLiteOracleTests, GlmMoeDsaOracleTests).
/// </summary>
[Trait("Oracle", "llama.cpp")]
public sealed class MlaMtpOracleTests(ITestOutputHelper output)
{
    private const double Bound = 1e-3;

    /// <summary>This llama.cpp builds glm-dsa only with rope 64 and indexer key length 128 (GLM-5's own); the rest varies.</summary>
    public static TheoryData<TinyMlaSpec> DsaShapes() => new()
    {
        new TinyMlaSpec(160, 64, 2, 4, QLora: 48, KvLora: 32, Nope: 24, Rope: 64, ValueDim: 32, DenseIntermediate: 96,
            Experts: 8, ExpertsPerToken: 2, ExpertWidth: 32, SharedExperts: 1, FirstDense: 1, Scaling: 2.5, NextN: 1, Dsa: new(Heads: 16, TopK: 32, "FS")),
        new TinyMlaSpec(150, 96, 3, 2, QLora: 32, KvLora: 64, Nope: 16, Rope: 64, ValueDim: 24, DenseIntermediate: 80,
            Experts: 6, ExpertsPerToken: 3, ExpertWidth: 40, SharedExperts: 2, FirstDense: 0, NextN: 1, Dsa: new(Heads: 8, TopK: 24, "FSF")),
    };

    /// <summary>
    /// index_topk rows in two decodes (the second reads the cache the first wrote), from the GGUF and from the Hugging Face
    /// folder: llama.cpp's draft logits, and the hidden state its graph hands the next draft step (the last row's output
    /// after shared_head.norm), which GlmSharp's layer returns before that norm.
    /// </summary>
    [Theory]
    [MemberData(nameof(DsaShapes))]
    public void GlmDsa_Draft_Logits_Match_LlamaCpps_Mtp_Graph(TinyMlaSpec spec)
    {
        using var dir = new TempDirectory();
        var checkpoint = new RandomMlaCheckpoint(spec, seed: spec.Hidden + spec.Layers);
        string gguf = checkpoint.WriteGguf(dir.File("model.gguf"), GgmlType.F32);
        int rows = spec.Dsa!.TopK, split = rows * 2 / 3, h = spec.Hidden;
        var tokens = spec.RandomPrompt(rows, seed: 5);
        var hidden = TestMatrix.RandomActivations(rows * h, seed: 7);
        var (expected, expectedNext) = LlamaCppNextN.Draft(gguf, tokens, hidden, spec.Vocab, spec.Context, split, rows - split);
        var headNorm = checkpoint.Tensors[$"model.layers.{spec.Layers}.shared_head.norm.weight"].Values;

        foreach (string path in new[] { gguf, checkpoint.WriteHuggingFace(dir.File("hf")) })
        {
            using var loaded = ModelLoader.Load(path, CpuBackend.Instance);
            var (logits, last) = NextNRun.Logits(loaded.Model.NextN!, tokens, hidden, split, spec.Vocab, spec.Context);
            double error = LogitComparison.WorstRelativeError(logits, expected, spec.Vocab);
            double next = LogitComparison.WorstRelativeError(RmsNormed(last, headNorm), expectedNext.AsSpan((rows - 1) * h, h), h);
            output.WriteLine($"{spec.Dsa} {Path.GetFileName(path)}: worst relative draft-logit error {error:E2}, next hidden state {next:E2}");
            Assert.True(error <= Bound, $"{path}: worst relative draft-logit error {error:E2} > {Bound}");
            Assert.True(next <= Bound, $"{path}: the next draft step's hidden state is off by {next:E2} > {Bound}");
        }
    }

    /// <summary>
    /// Three times index_topk rows, so the layer's own indexer decides which positions each row sees: llama.cpp runs the
    /// layer as a one-layer glm-dsa model whose embedding row t is what the layer's input projection makes of token t with
    /// a fixed hidden state of its own (<see cref="NextNTensors.AsModel"/>).
    /// </summary>
    [Theory]
    [MemberData(nameof(DsaShapes))]
    public void GlmDsa_NextN_Indexer_Matches_LlamaCpp_Running_The_Layer_As_A_Model(TinyMlaSpec spec)
    {
        AssertLayerMatchesLlamaCppAsModel(spec, rows: 3 * spec.Dsa!.TopK, seed: 31);
    }

    [Fact]
    public void Glm4MoeLite_NextN_Layer_Logits_Match_LlamaCpp_Running_It_As_A_Model()
    {
        var spec = new TinyMlaSpec(160, 64, 3, 4, QLora: 48, KvLora: 32, Nope: 24, Rope: 16, ValueDim: 32, DenseIntermediate: 96,
            Experts: 8, ExpertsPerToken: 2, ExpertWidth: 32, SharedExperts: 1, FirstDense: 1, Scaling: 1.8, NextN: 1);
        AssertLayerMatchesLlamaCppAsModel(spec, rows: 30, seed: 21);
    }

    /// <summary>
    /// This llama.cpp's deepseek2 loader runs every block of a file as a main layer: a file with the NextN layer appended
    /// (block_count 4, nextn_predict_layers 1, blk.3 with its MLA, MoE and nextn.* tensors, as llama.cpp's newer converter
    /// writes GLM-4.7-Flash) fails to load ("wrong number of tensors"), which is why GlmSharp's deepseek2 export leaves
    /// the layer out. GlmSharp reads such a file: its main model gives llama.cpp's logits for the file without the layer,
    /// and its NextN layer drafts as the Hugging Face folder's does.
    /// </summary>
    [Fact]
    public void Glm4MoeLite_File_With_Its_NextN_Layer_Is_Refused_By_This_LlamaCpp_And_Read_By_GlmSharp()
    {
        var spec = new TinyMlaSpec(160, 64, 3, 4, QLora: 48, KvLora: 32, Nope: 24, Rope: 16, ValueDim: 32, DenseIntermediate: 96,
            Experts: 8, ExpertsPerToken: 2, ExpertWidth: 32, SharedExperts: 1, FirstDense: 1, Scaling: 1.8, NextN: 1);
        using var dir = new TempDirectory();
        var checkpoint = new RandomMlaCheckpoint(spec, seed: 13);
        string with = checkpoint.WriteGguf(dir.File("with.gguf"), GgmlType.F32, nextNBlocks: true);
        string without = checkpoint.WriteGguf(dir.File("without.gguf"), GgmlType.F32);
        using (var file = GgufFile.Open(with))
        {
            Assert.Equal(4u, file.Metadata.GetUInt("deepseek2.block_count"));
            Assert.Equal(1u, file.Metadata.GetUInt("deepseek2.nextn_predict_layers"));
            Assert.Contains(file.Tensors, t => t.Name == "blk.3.nextn.eh_proj.weight");
        }
        using (var file = GgufFile.Open(without))
        {
            Assert.Equal(3u, file.Metadata.GetUInt("deepseek2.block_count"));
            Assert.DoesNotContain(file.Tensors, t => t.Name.StartsWith("blk.3.", StringComparison.Ordinal));
        }
        var prompt = spec.RandomPrompt(40, seed: 3);

        Assert.Throws<LLama.Exceptions.LoadWeightsFailedException>(() => LlamaCpp.Logits(with, prompt, spec.Vocab, spec.Context));
        double ours = LogitComparison.WorstRelativeError(GlmSharpRun.Logits(with, prompt), LlamaCpp.Logits(without, prompt, spec.Vocab, spec.Context), spec.Vocab);
        string hf = checkpoint.WriteHuggingFace(dir.File("hf"));
        double drafts = LogitComparison.WorstRelativeError(NextNLogits(with, spec, prompt), NextNLogits(hf, spec, prompt), spec.Vocab);
        output.WriteLine($"GlmSharp on the file with the layer vs llama.cpp on the file without: {ours:E2}; NextN drafts, file vs folder: {drafts:E2}");
        Assert.True(ours <= Bound, $"worst relative logit error {ours:E2} > {Bound}");
        Assert.True(drafts <= 1e-6, $"the file's NextN layer drafts {drafts:E2} away from the folder's");
    }

    private static float[] NextNLogits(string path, TinyMlaSpec spec, int[] tokens)
    {
        using var loaded = ModelLoader.Load(path);
        return NextNRun.OnTheModelsHiddenStates(loaded, tokens, spec.Context);
    }

    /// <summary>The layer as loaded from the GGUF and from the Hugging Face folder, in two calls (<see cref="NextNRun.Logits"/>).</summary>
    private void AssertLayerMatchesLlamaCppAsModel(TinyMlaSpec spec, int rows, int seed)
    {
        using var dir = new TempDirectory();
        var checkpoint = new RandomMlaCheckpoint(spec, seed: seed);
        var hiddenOf = Enumerable.Range(0, spec.Vocab).Select(t => TestMatrix.RandomActivations(spec.Hidden, seed: 1000 + t)).ToArray();
        string standalone = checkpoint.NextNAsModel(t => hiddenOf[t]).WriteGguf(dir.File("nextn.gguf"), GgmlType.F32);
        var tokens = spec.RandomPrompt(rows, seed: 5);
        var expected = LlamaCpp.Logits(standalone, tokens, spec.Vocab, spec.Context);
        var hidden = tokens.SelectMany(t => hiddenOf[t]).ToArray();

        foreach (string path in new[] { checkpoint.WriteGguf(dir.File("model.gguf"), GgmlType.F32, nextNBlocks: true), checkpoint.WriteHuggingFace(dir.File("hf")) })
        {
            using var loaded = ModelLoader.Load(path, CpuBackend.Instance);
            var (logits, _) = NextNRun.Logits(loaded.Model.NextN!, tokens, hidden, rows * 3 / 5, spec.Vocab, spec.Context);
            double error = LogitComparison.WorstRelativeError(logits, expected, spec.Vocab);
            output.WriteLine($"{spec.ModelType} {Path.GetFileName(path)}, {rows} rows: worst relative logit error {error:E2}");
            Assert.True(error <= Bound, $"{path}: worst relative logit error {error:E2} > {Bound}");
        }
    }

    private static float[] RmsNormed(float[] x, float[] weight)
    {
        double meanSquare = x.Sum(v => (double)v * v) / x.Length;
        double scale = 1 / Math.Sqrt(meanSquare + 1e-5);
        return [.. x.Select((v, i) => (float)(v * scale * weight[i]))];
    }
}
