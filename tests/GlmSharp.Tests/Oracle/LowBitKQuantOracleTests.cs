using GlmSharp.Formats.Gguf;
using GlmSharp.Tensors;
using GlmSharp.Tests.Support;
using Xunit.Abstractions;

namespace GlmSharp.Tests.Oracle;

/// <summary>
/// glm4 and glm models whose matrices are all Q3_K or all Q2_K, written by our writer and run by llama.cpp and by
/// GlmSharp. Both engines quantize the activations to the same Q8_K blocks (<see cref="LowBitKQuantDotOracleTests"/>)
/// and take exact integer sums, so only the order of the fp32 accumulation differs: most positions agree to float
/// rounding (measured 1e-7 to 5e-7). Now and then an activation lies within that rounding of a boundary between two
/// 8-bit codes and the engines round it to neighbouring codes; a flipped code in a key or value moves every later
/// position that attends to it by up to a few 1e-2 (measured on the glm model: Q3_K 2.5e-2 from position 13, Q2_K
/// 2.0e-2 from position 16; the Q4_K and Q6_K kernels, tried on the same model, show the same jumps, Q4_K from
/// position 6, in 15 of 24 positions). As in <see cref="LegacyQuantOracleTests"/> the median position is held to 1e-5
/// (10 of the 24 positions moved for glm Q3_K) and the worst to 5e-2; a wrong kernel moves every position. The prompt's logits come from the prefill tile; the greedy continuation runs the one-token decode
/// kernels and must match token for token.
/// </summary>
[Trait("Oracle", "llama.cpp")]
public sealed class LowBitKQuantOracleTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(GgmlType.Q3_K)]
    [InlineData(GgmlType.Q2_K)]
    public void Logits_And_Greedy_Continuation_Match_LlamaCpp(GgmlType type)
    {
        const double medianBound = 1e-5, worstBound = 5e-2;
        foreach (var spec in new[]
        {
            new TinyGlmSpec("glm4", 160, 256, 2, 4, 2, 64, 512, 0.5, Bias: true, Tied: false),
            new TinyGlmSpec("glm", 192, 256, 2, 8, 2, 32, 768, 0.5, Bias: false, Tied: true),
        })
        {
            using var dir = new TempDirectory();
            string gguf = new RandomGlmCheckpoint(spec, seed: 17).WriteGguf(dir.File("model.gguf"), type);
            QuantizedModelParity.AssertMatchesLlamaCpp(output, spec, gguf, type.ToString(), medianBound, worstBound);
        }
    }

    /// <summary>
    /// Files as users download them: llama.cpp's own quantizer writes its Q2_K and Q3_K_S mixes (Q2_K or Q3_K for most
    /// matrices, Q3_K and Q6_K where it spends more bits); GlmSharp must read every block type in them and give
    /// llama.cpp's logits and greedy tokens. In the Q2_K file a code rounded the other way at position 10 moves every
    /// later position by 1–2e-2 (positions 0–9 agree to 3e-7), so here a third of the positions, not half, are held
    /// to 1e-5.
    /// </summary>
    [Theory]
    [InlineData(LLama.Native.LLamaFtype.MOSTLY_Q2_K, GgmlType.Q2_K)]
    [InlineData(LLama.Native.LLamaFtype.MOSTLY_Q3_K_S, GgmlType.Q3_K)]
    public void LlamaCpps_Own_Mix_Gives_LlamaCpps_Logits(LLama.Native.LLamaFtype fileType, GgmlType mainType)
    {
        var spec = new TinyGlmSpec("glm4", 160, 256, 4, 4, 2, 64, 512, 0.5, Bias: true, Tied: false);
        using var dir = new TempDirectory();
        string f32 = new RandomGlmCheckpoint(spec, seed: 23).WriteGguf(dir.File("f32.gguf"), GgmlType.F32);
        string gguf = dir.File("mix.gguf");
        LLama.Native.NativeApi.llama_empty_call();
        Assert.True(LLama.LLamaQuantizer.Quantize(f32, gguf, fileType, nthread: 1, quantizeOutputTensor: true));
        using (var file = GgufFile.Open(gguf))
        {
            var types = file.Tensors.GroupBy(t => t.Type).ToDictionary(g => g.Key, g => g.Count());
            output.WriteLine($"{fileType}: {string.Join(", ", types.Select(t => $"{t.Key} ×{t.Value}"))}");
            Assert.True(types.GetValueOrDefault(mainType) >= 2 * spec.Layers, $"{fileType}: too few {mainType} tensors");
        }
        QuantizedModelParity.AssertMatchesLlamaCpp(output, spec, gguf, fileType.ToString(), 1e-5, 5e-2, cleanShare: 1.0 / 3);
    }
}
