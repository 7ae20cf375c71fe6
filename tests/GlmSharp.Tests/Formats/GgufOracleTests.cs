using GlmSharp.Formats.Gguf;
using GlmSharp.Tensors;
using GlmSharp.Tests.Formats;
using LLama;
using LLama.Common;
using LLama.Native;

using GlmSharp.Tests.Support;

namespace GlmSharp.Tests.Oracle;

/// <summary>llama.cpp (through LLamaSharp) is the judge: it must load the GGUF files we write, and its quantizer
/// must produce the same Q8_0 / Q4_0 bytes as ours.</summary>
[Trait("Oracle", "llama.cpp")]
public class GgufOracleTests
{
    static GgufOracleTests() => NativeApi.llama_empty_call();

    [Fact]
    public void LlamaCpp_Loads_Our_Gguf_With_F32_F16_BF16_Q8_0_Q4_0_Tensors()
    {
        using var dir = new TempDirectory();
        string path = dir.File("tiny.gguf");
        var types = new[] { GgmlType.F16, GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.BF16, GgmlType.F32 };
        int next = 0;
        var assigned = new Dictionary<string, GgmlType>();
        TinyLlamaGguf.Write(path, TinyLlamaGguf.RandomWeights(seed: 3), name => assigned[name] = types[next++ % types.Length]);
        Assert.Equal(types.Length, assigned.Values.Distinct().Count());

        using var weights = LLamaWeights.LoadFromFile(new ModelParams(path) { GpuLayerCount = 0, ContextSize = 64 });

        long parameters = TinyLlamaGguf.Tensors.Sum(t => t.Shape.Aggregate(1L, (a, d) => a * d));
        Assert.Equal((ulong)parameters, weights.ParameterCount);
        Assert.Equal(TinyLlamaGguf.Embedding, weights.EmbeddingSize);
        Assert.Equal(TinyLlamaGguf.Vocab, weights.Vocab.Count);
        Assert.Equal("glmsharp-tiny-llama", weights.Metadata["general.name"]);
    }

    [Theory]
    [InlineData(LLamaFtype.MOSTLY_Q8_0, GgmlType.Q8_0)]
    [InlineData(LLamaFtype.MOSTLY_Q4_0, GgmlType.Q4_0)]
    public void Our_Quantizer_Matches_LlamaCpp_Byte_For_Byte(LLamaFtype fileType, GgmlType target)
    {
        using var dir = new TempDirectory();
        string f32Path = dir.File("f32.gguf"), quantPath = dir.File("quant.gguf");
        var weights = TinyLlamaGguf.RandomWeights(seed: 11);
        TinyLlamaGguf.Write(f32Path, weights, _ => GgmlType.F32);

        Assert.True(LLamaQuantizer.Quantize(f32Path, quantPath, fileType, nthread: 1));

        using var quantized = GgufFile.Open(quantPath);
        int compared = 0;
        foreach (var info in quantized.Tensors.Where(t => t.Type is GgmlType.Q8_0 or GgmlType.Q4_0))
        {
            var source = weights[info.Name];
            var ours = new byte[info.ByteLength];
            int rowLength = (int)info.Ne[0];
            long rowBytes = GgmlTypeInfo.RowByteSize(info.Type, rowLength);
            for (int r = 0; r < source.Length / rowLength; r++)
                TensorCodec.QuantizeRow(info.Type, source.AsSpan(r * rowLength, rowLength), ours.AsSpan((int)(r * rowBytes), (int)rowBytes));

            var theirs = Bytes(quantized.View(info));
            int firstDiff = ours.AsSpan().CommonPrefixLength(theirs);
            Assert.True(firstDiff == ours.Length, $"{info.Name} ({info.Type}) differs from llama.cpp first at byte {firstDiff}");
            compared++;
        }

        var blockMatrices = TinyLlamaGguf.Tensors.Where(t => t.Name.StartsWith("blk.") && t.Shape.Length == 2).Select(t => t.Name);
        Assert.All(blockMatrices, name =>
        {
            Assert.True(quantized.TryGetTensorInfo(name, out var info));
            Assert.Equal(target, info.Type);
        });
        Assert.True(compared >= 7, $"only {compared} tensors were quantized by llama.cpp");
    }

    private static unsafe byte[] Bytes(TensorView view) => new ReadOnlySpan<byte>(view.Data, (int)view.ByteLength).ToArray();
}
