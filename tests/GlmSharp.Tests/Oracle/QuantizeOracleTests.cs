using GlmSharp.Formats.Gguf;
using GlmSharp.Models;
using GlmSharp.Tensors;
using GlmSharp.Tests.Support;
using LLama;
using LLama.Native;
using Xunit.Abstractions;

namespace GlmSharp.Tests.Oracle;

/// <summary>
/// The same F32 GGUF quantized by llama.cpp's quantizer (llama_model_quantize through LLamaSharp) and by GlmSharp's
/// exporter: every tensor must get the same type and the same bytes. The type assignment of the presets GlmSharp cannot
/// write yet is held against llama.cpp's in <see cref="QuantPresetOracleTests"/>.
/// </summary>
[Trait("Oracle", "llama.cpp")]
public sealed class QuantizeOracleTests(ITestOutputHelper output)
{
    public static TheoryData<TinyGlmSpec> Shapes() =>
    [
        // Twelve layers: the Q6_K layers of the mix (first and last eighth, every third between) and the
        // name order blk.10 < blk.2 that llama.cpp counts layers in both matter.
        new TinyGlmSpec("glm4", 160, 256, 12, 4, 2, 64, 256, 0.5, Bias: true, Tied: false),
        // Tied embeddings: token_embd takes the output's Q6_K.
        new TinyGlmSpec("glm4", 160, 256, 3, 4, 2, 64, 512, 0.5, Bias: false, Tied: true),
        // llama.cpp's chatglm architecture (GLM-4-9B-chat-hf, GLM-Edge): pre-norm layers.
        new TinyGlmSpec("glm", 160, 256, 3, 4, 2, 64, 512, 0.5, Bias: true, Tied: false),
        // Rows of 96 are not 256-value super-blocks: Q4_K falls back to Q5_0 and Q6_K to Q8_0.
        new TinyGlmSpec("glm4", 160, 96, 2, 4, 2, 16, 128, 0.5, Bias: true, Tied: false),
    ];

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Q4_K_M_Export_Has_LlamaCpp_Tensor_Types_And_Bytes(TinyGlmSpec spec) =>
        AssertSameAsLlamaCpp(new RandomGlmCheckpoint(spec, seed: spec.Layers * 100 + spec.Hidden));

    /// <summary>Rows that take the encoders' edge branches: all zero, constant, below ggml's all-zero threshold,
    /// one outlier, all negative, and values on rounding ties.</summary>
    [Fact]
    public void Q4_K_And_Q6_K_Bytes_Match_LlamaCpp_On_Degenerate_Rows()
    {
        var spec = new TinyGlmSpec("glm4", 160, 256, 3, 4, 2, 64, 512, 0.5, Bias: false, Tied: false);
        var checkpoint = new RandomGlmCheckpoint(spec, seed: 4);
        // output.weight becomes Q6_K, blk.0.attn_q.weight Q4_K.
        foreach (var name in new[] { "lm_head.weight", "model.layers.0.self_attn.q_proj.weight" })
        {
            var values = checkpoint.Tensors[name].Values;
            var rows = new Action<Span<float>>[]
            {
                row => row.Clear(),
                row => row.Fill(0.5f),
                row => row.Fill(1e-20f),
                row => { row.Fill(0.01f); row[77] = 1e4f; },
                row => { for (int i = 0; i < row.Length; i++) row[i] = -0.001f * (i % 17 + 1); },
                row => { for (int i = 0; i < row.Length; i++) row[i] = (i % 4 - 1.5f) / 8; },
            };
            for (int r = 0; r < rows.Length; r++) rows[r](values.AsSpan(r * spec.Hidden, spec.Hidden));
        }
        AssertSameAsLlamaCpp(checkpoint);
    }

    /// <summary>
    /// `glm quantize` of a GGUF with fused attn_qkv: llama.cpp's quantizer keeps the fused tensor, GlmSharp writes its
    /// q, k and v rows as attn_q, attn_k and attn_v (a layout both engines load). Every block must be llama.cpp's: the
    /// fused tensor's rows in order, every other tensor as is, and GlmSharp's logits on its file llama.cpp's on its own.
    /// </summary>
    [Theory]
    [InlineData("glm4")]
    [InlineData("glm")]
    public void Quantizing_A_Fused_Qkv_Gguf_Writes_LlamaCpp_Blocks_With_Q_K_V_Apart(string modelType)
    {
        var spec = new TinyGlmSpec(modelType, 160, 64, 2, 8, 2, 8, 96, 0.5, Bias: true, Tied: false);
        using var dir = new TempDirectory();
        string f32 = new RandomGlmCheckpoint(spec, seed: 12).WithFusedQkv().WriteGguf(dir.File("fused.gguf"), GgmlType.F32);
        string expectedPath = dir.File("llama.gguf"), actualPath = dir.File("ours.gguf");
        NativeApi.llama_empty_call();
        Assert.True(LLamaQuantizer.Quantize(f32, expectedPath, LLamaFtype.MOSTLY_Q8_0, nthread: 1, quantizeOutputTensor: true));
        var result = GlmCli.Run("quantize", f32, actualPath, "--type", "q8_0");
        Assert.True(result.ExitCode == 0, result.Stderr);

        using (var expected = GgufFile.Open(expectedPath))
        using (var actual = GgufFile.Open(actualPath))
        {
            foreach (var e in expected.Tensors)
            {
                string[] names = e.Name.Contains("attn_qkv", StringComparison.Ordinal)
                    ? [.. new[] { "attn_q", "attn_k", "attn_v" }.Select(p => e.Name.Replace("attn_qkv", p, StringComparison.Ordinal))]
                    : [e.Name];
                var parts = names.Select(actual.GetTensor).ToArray();
                Assert.All(parts, p => Assert.Equal(e.Type, p.Type));
                int differing = DifferingBlocks(e.Type, Bytes(expected.View(e)), Concatenated(parts));
                Assert.True(differing == 0, $"{e.Name} ({e.Type}): {differing} blocks differ from llama.cpp's");
            }
            Assert.Equal(expected.Tensors.Count + 4 * spec.Layers, actual.Tensors.Count);
        }

        var prompt = spec.RandomPrompt(24, seed: 5);
        double error = LogitComparison.WorstRelativeError(
            GlmSharpRun.Logits(actualPath, prompt), LlamaCpp.Logits(expectedPath, prompt, spec.Vocab, spec.Context), spec.Vocab);
        output.WriteLine($"{modelType}: worst relative logit error {error:E2}");
        Assert.True(error <= 1e-4, $"{modelType}: worst relative logit error {error:E2} > 1e-4");
    }

    private static byte[] Concatenated(TensorView[] parts)
    {
        var bytes = new List<byte>();
        foreach (var part in parts) bytes.AddRange(Bytes(part));
        return [.. bytes];
    }

    /// <summary>
    /// glm4_moe's Q4_K_M mix: the merged expert tensors (ffn_down_exps counted with the shared expert's ffn_down_shexp
    /// among the ffn_down tensors), the router kept F32, K-quant rows of 256 everywhere.
    /// </summary>
    [Fact]
    public void Q4_K_M_Export_Of_A_Mixture_Of_Experts_Has_LlamaCpp_Tensor_Types_And_Bytes()
    {
        // 16 experts; exactly 8 (llama.cpp's Mixtral rule) is Preset_Export_Of_Eight_Experts_Has_LlamaCpp_Tensor_Types_And_Bytes.
        var spec = new TinyMoeSpec(160, 256, 4, 4, 2, 64, 256, Experts: 16, ExpertsPerToken: 2, ExpertWidth: 256, SharedExperts: 1, FirstDense: 1, QkNorm: true);
        var checkpoint = new RandomMoeCheckpoint(spec, seed: 3);
        AssertSameAsLlamaCpp(path => checkpoint.WriteGguf(path, GgmlType.F32), path => checkpoint.WriteGguf(path, QuantizationScheme.Q4_K_M));
    }

    /// <summary>
    /// The presets GlmSharp can write, each on a dense model whose 17 layers make the layer rules matter (Q3_K_M's
    /// first sixteenth, Q4_K_S's first eighth, the use_more_bits layers), with four query heads per key-value head,
    /// and on a tied model whose 352-wide down projections take each type's 32-block fallback.
    /// </summary>
    public static TheoryData<QuantPreset, TinyGlmSpec> WritablePresets()
    {
        var data = new TheoryData<QuantPreset, TinyGlmSpec>();
        foreach (var preset in Enum.GetValues<QuantPreset>().Where(p => TensorCodec.CanQuantize(QuantizationScheme.ForPreset(p).MatrixType)))
            foreach (var spec in new[] { QuantPresetModels.DenseLayers, QuantPresetModels.TiedOddRows })
                data.Add(preset, spec);
        return data;
    }

    [Theory]
    [MemberData(nameof(WritablePresets))]
    public void Preset_Export_Has_LlamaCpp_Tensor_Types_And_Bytes(QuantPreset preset, TinyGlmSpec spec)
    {
        var checkpoint = new RandomGlmCheckpoint(spec, seed: spec.Layers * 10 + (int)preset);
        AssertSameAsLlamaCpp(path => checkpoint.WriteGguf(path, GgmlType.F32), path => checkpoint.WriteGguf(path, QuantizationScheme.ForPreset(preset)), preset);
    }

    /// <summary>glm4_moe with exactly eight experts: llama.cpp's Mixtral rule puts attention's k and v in Q8_0 and its output in
    /// Q5_K; MXFP4_MOE puts the expert stacks in MXFP4 and every other matrix in Q8_0.</summary>
    [Theory]
    [InlineData(QuantPreset.Q4_K_M)]
    [InlineData(QuantPreset.Q5_K_M)]
    [InlineData(QuantPreset.MXFP4_MOE)]
    public void Preset_Export_Of_Eight_Experts_Has_LlamaCpp_Tensor_Types_And_Bytes(QuantPreset preset)
    {
        var checkpoint = new RandomMoeCheckpoint(QuantPresetModels.EightExperts with { Layers = 3 }, seed: 6);
        AssertSameAsLlamaCpp(path => checkpoint.WriteGguf(path, GgmlType.F32), path => checkpoint.WriteGguf(path, QuantizationScheme.ForPreset(preset)), preset);
    }

    private void AssertSameAsLlamaCpp(RandomGlmCheckpoint checkpoint) =>
        AssertSameAsLlamaCpp(path => checkpoint.WriteGguf(path, GgmlType.F32), path => checkpoint.WriteGguf(path, QuantizationScheme.Q4_K_M));

    private void AssertSameAsLlamaCpp(Func<string, string> writeF32, Func<string, string> writeOurs, QuantPreset preset = QuantPreset.Q4_K_M)
    {
        using var dir = new TempDirectory();
        string f32 = writeF32(dir.File("f32.gguf"));
        string expectedPath = dir.File("llama.gguf");
        QuantPresetModels.Quantize(f32, expectedPath, preset);
        string actualPath = writeOurs(dir.File("ours.gguf"));

        using var expected = GgufFile.Open(expectedPath);
        using var actual = GgufFile.Open(actualPath);
        Assert.Equal(expected.Tensors.Select(t => t.Name).Order(), actual.Tensors.Select(t => t.Name).Order());
        Assert.Equal(expected.Metadata.GetUInt("general.file_type"), actual.Metadata.GetUInt("general.file_type"));
        foreach (var e in expected.Tensors)
        {
            Assert.True(actual.TryGetTensorInfo(e.Name, out var a));
            Assert.True(e.Type == a.Type, $"{e.Name}: llama.cpp wrote {e.Type}, GlmSharp {a.Type}");
            int differing = DifferingBlocks(e.Type, Bytes(expected.View(e)), Bytes(actual.View(a)));
            output.WriteLine($"{preset} {e.Name} {e.Type}: {differing} differing blocks");
            Assert.True(differing == 0, $"{e.Name} ({e.Type}): {differing} blocks differ from llama.cpp's");
        }
    }

    private static unsafe ReadOnlySpan<byte> Bytes(TensorView tensor) => new(tensor.Data, checked((int)tensor.ByteLength));

    private static int DifferingBlocks(GgmlType type, ReadOnlySpan<byte> expected, ReadOnlySpan<byte> actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        int blockBytes = GgmlTypeInfo.BytesPerBlock(type);
        int differing = 0;
        for (int offset = 0; offset < expected.Length; offset += blockBytes)
            if (!expected.Slice(offset, blockBytes).SequenceEqual(actual.Slice(offset, blockBytes))) differing++;
        return differing;
    }
}
