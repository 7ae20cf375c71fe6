using GlmSharp.Kernels;
using GlmSharp.Formats.Gguf;
using GlmSharp.Models;
using GlmSharp.Tensors;
using GlmSharp.Tests.Oracle;
using GlmSharp.Tests.Support;

namespace GlmSharp.Tests.Cli;

/// <summary>`glm quantize`: what it writes from a Hugging Face folder or a GGUF, and how it refuses bad input.</summary>
public sealed class QuantizeCliTests : IDisposable
{
    private static readonly TinyGlmSpec Spec = new("glm4", 160, 256, 2, 4, 2, 64, 512, 0.5, Bias: true, Tied: false);
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Trait("Oracle", "llama.cpp")]
    [Fact]
    public void Q4_K_M_From_A_Hf_Folder_Gives_LlamaCpp_Logits_And_Greedy_Tokens()
    {
        var checkpoint = new RandomGlmCheckpoint(Spec, seed: 5);
        string folder = checkpoint.WriteHuggingFace(_dir.File("hf"));
        string quantized = _dir.File("q4_k_m.gguf");
        var result = GlmCli.Run("quantize", folder, quantized, "--type", "q4_k_m");
        Assert.True(result.ExitCode == 0, result.Stderr);

        using (var file = GgufFile.Open(quantized))
        {
            Assert.Equal(15u, file.Metadata.GetUInt("general.file_type"));
            Assert.Equal(GgmlType.Q6_K, file.Tensors.Single(t => t.Name == "output.weight").Type);
            Assert.Equal(GgmlType.Q4_K, file.Tensors.Single(t => t.Name == "blk.0.attn_q.weight").Type);
            Assert.Equal(GgmlType.F32, file.Tensors.Single(t => t.Name == "blk.0.attn_norm.weight").Type);
        }

        var random = new Random(3);
        var prompt = Enumerable.Range(0, 16).Select(_ => random.Next(Spec.Vocab)).ToArray();
        var expected = LlamaCpp.Logits(quantized, prompt, Spec.Vocab, Spec.Context);
        using var loaded = ModelLoader.Load(quantized);
        var session = loaded.Model.CreateSession(Spec.Context, cacheType: KvCacheType.F32);
        var actual = new float[prompt.Length * Spec.Vocab];
        loaded.Model.Forward(prompt, session, actual, LogitsFor.AllTokens);
        double error = LogitComparison.WorstRelativeError(actual, expected, Spec.Vocab);
        // Both engines multiply K-quant weights with activations quantized to Q8_K by the same rule, so they sum the
        // same integers; what remains is float summation order (measured ~4e-7). The bound leaves room for a code
        // that lands on the other side of a rounding tie, and is far below what one wrong scale or nibble causes.
        Assert.True(error <= 1e-4, $"GlmSharp vs llama.cpp worst relative logit error {error:E2}");

        // One token at a time runs the decode kernels rather than the prefill tile.
        var expectedTokens = LlamaCpp.Greedy(quantized, prompt[..4], 24, Spec.Vocab, Spec.Context);
        var decode = loaded.Model.CreateSession(Spec.Context, cacheType: KvCacheType.F32);
        var logits = new float[Spec.Vocab];
        loaded.Model.Forward(prompt[..4], decode, logits);
        var actualTokens = new List<int>();
        for (int i = 0; i < 24; i++)
        {
            actualTokens.Add(GlmSharp.Inference.Sampler.ArgMax(logits));
            loaded.Model.Forward([actualTokens[^1]], decode, logits);
        }
        Assert.Equal(expectedTokens, actualTokens);
    }

    [Fact]
    public void Q6_K_From_A_Gguf_Has_Every_Matrix_In_Q6_K_And_Vectors_In_F32()
    {
        string f32 = new RandomGlmCheckpoint(Spec, seed: 6).WriteGguf(_dir.File("f32.gguf"), GgmlType.F32);
        string quantized = _dir.File("q6_k.gguf");
        var result = GlmCli.Run("quantize", f32, quantized, "--type", "q6_k");
        Assert.True(result.ExitCode == 0, result.Stderr);
        using var file = GgufFile.Open(quantized);
        Assert.Equal(18u, file.Metadata.GetUInt("general.file_type"));
        foreach (var tensor in file.Tensors)
            Assert.Equal(tensor.Ne.Length > 1 && tensor.Ne[1] > 1 ? GgmlType.Q6_K : GgmlType.F32, tensor.Type);
    }

    /// <summary>
    /// `glm quantize --type T` for the 32-value types and Q3_K against llama.cpp's quantizer with the same file type:
    /// llama.cpp gives a few tensors other types (its mix: output.weight Q6_K, for IQ4_NL some attention matrices
    /// K-quants, for Q3_K_S attn_v and ffn_down more bits); every tensor it writes as T must hold our bytes, and GlmSharp
    /// writes every matrix as T. (`q2_k` names llama-quantize's Q2_K preset, whose whole file is checked with the other
    /// presets in QuantPresetOracleTests.)
    /// </summary>
    [Trait("Oracle", "llama.cpp")]
    [Theory]
    [InlineData("q4_1", GgmlType.Q4_1, LLama.Native.LLamaFtype.MOSTLY_Q4_1)]
    [InlineData("q5_0", GgmlType.Q5_0, LLama.Native.LLamaFtype.MOSTLY_Q5_0)]
    [InlineData("q5_1", GgmlType.Q5_1, LLama.Native.LLamaFtype.MOSTLY_Q5_1)]
    [InlineData("iq4_nl", GgmlType.IQ4_NL, LLama.Native.LLamaFtype.MOSTLY_IQ4_NL)]
    [InlineData("q3_k", GgmlType.Q3_K, LLama.Native.LLamaFtype.MOSTLY_Q3_K_S)]
    public void Uniform_Type_From_A_Gguf_Has_LlamaCpps_Bytes(string name, GgmlType type, LLama.Native.LLamaFtype fileType)
    {
        string f32 = new RandomGlmCheckpoint(Spec, seed: 8).WriteGguf(_dir.File("f32.gguf"), GgmlType.F32);
        string ours = _dir.File("ours.gguf"), theirs = _dir.File("llama.gguf");
        var result = GlmCli.Run("quantize", f32, ours, "--type", name);
        Assert.True(result.ExitCode == 0, result.Stderr);
        LLama.Native.NativeApi.llama_empty_call();
        Assert.True(LLama.LLamaQuantizer.Quantize(f32, theirs, fileType, nthread: 1, quantizeOutputTensor: true));

        using var actual = GgufFile.Open(ours);
        using var expected = GgufFile.Open(theirs);
        Assert.Equal((uint)fileType, actual.Metadata.GetUInt("general.file_type"));
        int compared = 0;
        foreach (var tensor in actual.Tensors)
        {
            bool matrix = tensor.Ne.Length > 1 && tensor.Ne[1] > 1;
            Assert.Equal(matrix ? type : GgmlType.F32, tensor.Type);
            var reference = expected.GetTensor(tensor.Name);
            if (reference.Type != type) continue;
            unsafe
            {
                var view = actual.View(tensor);
                Assert.True(new ReadOnlySpan<byte>(view.Data, checked((int)view.ByteLength)).SequenceEqual(new ReadOnlySpan<byte>(reference.Data, checked((int)reference.ByteLength))),
                    $"{tensor.Name} ({type}): bytes differ from llama.cpp's");
            }
            compared++;
        }
        Assert.True(compared >= 2 * Spec.Layers, $"only {compared} tensors were {type} in llama.cpp's file");
    }

    /// <summary>`glm quantize --type q5_k_m` writes, tensor for tensor, the file llama-quantize writes for Q5_K_M.</summary>
    [Trait("Oracle", "llama.cpp")]
    [Fact]
    public void Q5_K_M_From_A_Gguf_Has_LlamaCpps_Types_And_Bytes()
    {
        string f32 = new RandomGlmCheckpoint(Spec, seed: 9).WriteGguf(_dir.File("f32.gguf"), GgmlType.F32);
        string ours = _dir.File("ours.gguf"), theirs = _dir.File("llama.gguf");
        var result = GlmCli.Run("quantize", f32, ours, "--type", "q5_k_m");
        Assert.True(result.ExitCode == 0, result.Stderr);
        QuantPresetModels.Quantize(f32, theirs, QuantPreset.Q5_K_M);

        using var actual = GgufFile.Open(ours);
        using var expected = GgufFile.Open(theirs);
        Assert.Equal(expected.Metadata.GetUInt("general.file_type"), actual.Metadata.GetUInt("general.file_type"));
        Assert.Equal(expected.Tensors.Count, actual.Tensors.Count);
        foreach (var e in expected.Tensors)
        {
            var a = actual.GetTensor(e.Name);
            Assert.True(e.Type == a.Type, $"{e.Name}: llama.cpp wrote {e.Type}, glm quantize {a.Type}");
            unsafe
            {
                var reference = expected.View(e);
                Assert.True(new ReadOnlySpan<byte>(a.Data, checked((int)a.ByteLength)).SequenceEqual(new ReadOnlySpan<byte>(reference.Data, checked((int)reference.ByteLength))),
                    $"{e.Name} ({e.Type}): bytes differ from llama.cpp's");
            }
        }
        Assert.Contains(actual.Tensors, t => t.Type == GgmlType.Q5_K);
    }

    [Fact]
    public void Unknown_Type_Is_Refused_With_The_Supported_List()
    {
        string f32 = new RandomGlmCheckpoint(Spec, seed: 7).WriteGguf(_dir.File("f32.gguf"), GgmlType.F32);
        var result = GlmCli.Run("quantize", f32, _dir.File("out.gguf"), "--type", "q7_k");
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("q7_k", result.Stderr);
        Assert.Contains("q4_k_m", result.Stderr);
        Assert.False(File.Exists(_dir.File("out.gguf")));
    }

    [Fact]
    public void Missing_Input_Is_Reported_By_Path()
    {
        string missing = _dir.File("nope.gguf");
        var result = GlmCli.Run("quantize", missing, _dir.File("out.gguf"), "--type", "q4_k");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"error: IN {missing}: no such file or folder", result.Stderr);
    }

    [Fact]
    public void Output_Over_The_Input_Is_Refused_And_The_Input_Kept()
    {
        string f32 = new RandomGlmCheckpoint(Spec, seed: 8).WriteGguf(_dir.File("f32.gguf"), GgmlType.F32);
        byte[] before = File.ReadAllBytes(f32);
        var result = GlmCli.Run("quantize", f32, f32, "--type", "q4_k");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("would overwrite the input", result.Stderr);
        Assert.Equal(before, File.ReadAllBytes(f32));
    }

    [Fact]
    public void Parse_Accepts_Every_Listed_Name_And_Rejects_Others_By_Name()
    {
        foreach (var name in QuantizationScheme.Names) Assert.Equal(name, QuantizationScheme.Parse(name).Name);
        var e = Assert.Throws<Errors.UnsupportedModelException>(() => QuantizationScheme.Parse("q7_k"));
        Assert.Contains("'q7_k'", e.Message);
    }
}
