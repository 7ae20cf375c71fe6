using GlmSharp.Formats.Gguf;
using GlmSharp.Kernels;
using GlmSharp.Models;
using GlmSharp.Tensors;
using GlmSharp.Tests.Oracle;
using GlmSharp.Tests.Support;
using LLama;
using LLama.Native;

namespace GlmSharp.Tests.Tensors;

public sealed class KQuantTests
{
    static KQuantTests() => NativeApi.llama_empty_call();

    [Fact]
    public void Q4_K_Sub_Blocks_Four_To_Seven_Take_High_Bits_From_The_First_Eight_Scale_Bytes()
    {
        var packed = new byte[12];
        packed[1] = 0b11_000101;  // scale of sub-block 1 = 5; its top two bits are bits 4–5 of sub-block 5's scale
        packed[5] = 0b10_000111;  // min of sub-block 1 = 7; top bits → bits 4–5 of sub-block 5's min
        packed[9] = 0x9A;         // sub-block 5: scale low nibble 0xA, min low nibble 0x9
        Assert.Equal((5, 7), Q4_K.ScaleMin(packed, 1));
        Assert.Equal((0xA | 3 << 4, 0x9 | 2 << 4), Q4_K.ScaleMin(packed, 5));
    }

    [Fact]
    public void Q4_K_Value_Is_Scale_Times_Nibble_Minus_Min_Low_Nibbles_First()
    {
        var block = new byte[Q4_K.BytesPerBlock];
        block[1] = 0x3C;          // d = 1
        block[3] = 0x38;          // dmin = 0.5
        block[4] = 2;             // sub-block 0: scale 2
        block[8] = 3;             // sub-block 0: min 3
        block[5] = 4;             // sub-block 1: scale 4, min 0
        block[16] = 0x51;         // element 0: nibble 1; element 32: nibble 5
        var y = new float[256];
        TensorCodec.DequantizeRow(GgmlType.Q4_K, block, y);
        Assert.Equal(2 * 1 - 1.5f, y[0]);
        Assert.Equal(4 * 5f, y[32]);
        Assert.Equal(-1.5f, y[1]);
    }

    [Fact]
    public void Q5_K_Fifth_Bit_Of_Chunk_C_Is_Bit_2c_Of_Qh_For_Low_Nibbles_And_2c_Plus_1_For_High()
    {
        var block = new byte[Q5_K.BytesPerBlock];
        block[1] = 0x3C;          // d = 1
        block[3] = 0x38;          // dmin = 0.5
        new Span<byte>(block, 4, 4).Fill(1);  // sub-blocks 0–3: scale 1, min 0
        block[12] = 0x01;         // sub-block 4: scale 1, min 0
        block[13] = 0x21;         // sub-block 5: scale 1, min 2
        block[16 + 3] = 0b0010_0001; // fifth bits: element 3 (chunk 0, low nibble) and element 160 + 3 (chunk 2, high)
        block[48 + 3] = 0x72;     // element 3: nibble 2; element 35: nibble 7 (no fifth bit)
        block[48 + 64 + 3] = 0x59; // element 128 + 3: nibble 9; element 160 + 3: nibble 5
        var y = new float[256];
        TensorCodec.DequantizeRow(GgmlType.Q5_K, block, y);
        Assert.Equal(16 + 2f, y[3]);
        Assert.Equal(7f, y[35]);
        Assert.Equal(9f, y[128 + 3]);
        Assert.Equal(16 + 5 - 0.5f * 2, y[160 + 3]);
    }

    /// <summary>
    /// llama.cpp's own quantizer writes the Q4_K_M mix (Q4_K for most matrices, Q6_K for the LM head and some
    /// value / down projections); GlmSharp must read both block types and give llama.cpp's logits.
    /// </summary>
    [Trait("Oracle", "llama.cpp")]
    [Fact]
    public void Q4_K_M_File_Written_By_LlamaCpp_Gives_LlamaCpp_Logits()
    {
        var spec = new TinyGlmSpec("glm4", 160, 256, 2, 4, 2, 64, 512, 0.5, Bias: false, Tied: false);
        using var dir = new TempDirectory();
        string f32 = new RandomGlmCheckpoint(spec, seed: 21).WriteGguf(dir.File("f32.gguf"), GgmlType.F32);
        string quantized = dir.File("q4_k_m.gguf");
        Assert.True(LLamaQuantizer.Quantize(f32, quantized, LLamaFtype.MOSTLY_Q4_K_M, nthread: 1));
        using (var file = GgufFile.Open(quantized))
        {
            var types = file.Tensors.Select(t => t.Type).ToHashSet();
            Assert.Contains(GgmlType.Q4_K, types);
            Assert.Contains(GgmlType.Q6_K, types);
        }

        var random = new Random(2);
        var prompt = Enumerable.Range(0, 16).Select(_ => random.Next(spec.Vocab)).ToArray();
        var expected = LlamaCpp.Logits(quantized, prompt, spec.Vocab, spec.Context);
        using var loaded = ModelLoader.Load(quantized);
        using var session = loaded.Model.CreateSession(spec.Context, cacheType: KvCacheType.F32);
        var actual = new float[prompt.Length * spec.Vocab];
        loaded.Model.Forward(prompt, session, actual, LogitsFor.AllTokens);
        double error = LogitComparison.WorstRelativeError(actual, expected, spec.Vocab);
        // Both engines quantize activations to Q8_K for K-quant rows and sum the same integers; only float summation
        // order differs (measured ~4e-7 relative).
        Assert.True(error <= 1e-4, $"GlmSharp vs llama.cpp worst relative logit error {error:E2}");
    }
}
