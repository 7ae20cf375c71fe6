using GlmSharp.Models;
using GlmSharp.Tests.Support;
using LLama;
using LLama.Native;

namespace GlmSharp.Tests.Oracle;

/// <summary>The random models the K-quant preset tests quantize, and llama.cpp's quantizer run as llama-quantize runs it.</summary>
internal static class KQuantPresetModels
{
    /// <summary>17 layers: Q3_K_M's first sixteenth, Q4_K_S's first eighth and use_more_bits all pick layers; GQA 4.</summary>
    public static TinyGlmSpec DenseLayers { get; } = new("glm4", 160, 256, 17, 8, 2, 32, 256, 0.5, Bias: true, Tied: false);

    /// <summary>Tied embeddings (token_embd takes the LM head's rule), GQA 2, and 352-wide down projections that
    /// 256-value super-blocks do not tile.</summary>
    public static TinyGlmSpec TiedOddRows { get; } = new("glm4", 160, 256, 3, 4, 2, 64, 352, 0.5, Bias: false, Tied: true);

    /// <summary>Ten layers of eight experts (Mixtral's rule) after one dense layer, with a shared expert.</summary>
    public static TinyMoeSpec EightExperts { get; } =
        new(160, 256, 10, 4, 2, 64, 256, Experts: 8, ExpertsPerToken: 2, ExpertWidth: 256, SharedExperts: 1, FirstDense: 1, QkNorm: true);

    public static void Quantize(string f32, string output, KQuantPreset preset)
    {
        NativeApi.llama_empty_call();
        // llama-quantize quantizes the output tensor by default; LLamaSharp's wrapper defaults to leaving it F32.
        // LLamaFtype numbers the presets as llama_ftype does, as KQuantPreset does.
        Assert.True(LLamaQuantizer.Quantize(f32, output, (LLamaFtype)(int)preset, nthread: 1, quantizeOutputTensor: true),
            $"llama.cpp did not quantize {f32} to {preset}");
    }
}
