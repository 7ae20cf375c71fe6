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
/// exporter: every tensor must get the same type and the same bytes.
/// </summary>
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
    public void Q4_K_M_Export_Has_LlamaCpp_Tensor_Types_And_Bytes(TinyGlmSpec spec)
    {
        using var dir = new TempDirectory();
        var checkpoint = new RandomGlmCheckpoint(spec, seed: spec.Layers * 100 + spec.Hidden);
        string f32 = checkpoint.WriteGguf(dir.File("f32.gguf"), GgmlType.F32);
        string expectedPath = dir.File("llama.gguf");
        NativeApi.llama_empty_call();
        // llama-quantize quantizes the output tensor by default; LLamaSharp's wrapper defaults to leaving it F32.
        Assert.True(LLamaQuantizer.Quantize(f32, expectedPath, LLamaFtype.MOSTLY_Q4_K_M, nthread: 1, quantizeOutputTensor: true));
        string actualPath = checkpoint.WriteGguf(dir.File("ours.gguf"), QuantizationScheme.Q4_K_M);

        using var expected = GgufFile.Open(expectedPath);
        using var actual = GgufFile.Open(actualPath);
        Assert.Equal(expected.Tensors.Select(t => t.Name).Order(), actual.Tensors.Select(t => t.Name).Order());
        Assert.Equal(expected.Metadata.GetUInt("general.file_type"), actual.Metadata.GetUInt("general.file_type"));
        foreach (var e in expected.Tensors)
        {
            Assert.True(actual.TryGetTensorInfo(e.Name, out var a));
            Assert.True(e.Type == a.Type, $"{e.Name}: llama.cpp wrote {e.Type}, GlmSharp {a.Type}");
            int differing = DifferingBlocks(expected.View(e), actual.View(a));
            output.WriteLine($"{e.Name} {e.Type}: {differing} differing blocks");
            Assert.True(differing == 0, $"{e.Name} ({e.Type}): {differing} blocks differ from llama.cpp's");
        }
    }

    private static unsafe int DifferingBlocks(TensorView expected, TensorView actual)
    {
        Assert.Equal(expected.ByteLength, actual.ByteLength);
        int blockBytes = GgmlTypeInfo.BytesPerBlock(expected.Type);
        var e = new ReadOnlySpan<byte>(expected.Data, checked((int)expected.ByteLength));
        var a = new ReadOnlySpan<byte>(actual.Data, checked((int)actual.ByteLength));
        int differing = 0;
        for (int offset = 0; offset < e.Length; offset += blockBytes)
            if (!e.Slice(offset, blockBytes).SequenceEqual(a.Slice(offset, blockBytes))) differing++;
        return differing;
    }
}
