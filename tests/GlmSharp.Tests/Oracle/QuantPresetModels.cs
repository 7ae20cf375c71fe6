using GlmSharp.Models;
using GlmSharp.Tests.Support;
using LLama.Native;

namespace GlmSharp.Tests.Oracle;

/// <summary>The random models the K-quant preset tests quantize, and llama.cpp's quantizer run as llama-quantize runs it.</summary>
internal static class QuantPresetModels
{
    /// <summary>17 layers: Q3_K_M's first sixteenth, Q4_K_S's first eighth and use_more_bits all pick layers; GQA 4.</summary>
    public static TinyGlmSpec DenseLayers { get; } = new("glm4", 160, 256, 17, 8, 2, 32, 256, 0.5, Bias: true, Tied: false);

    /// <summary>Tied embeddings (token_embd takes the LM head's rule), GQA 2, and 352-wide down projections that
    /// 256-value super-blocks do not tile.</summary>
    public static TinyGlmSpec TiedOddRows { get; } = new("glm4", 160, 256, 3, 4, 2, 64, 352, 0.5, Bias: false, Tied: true);

    /// <summary>Ten layers of eight experts (Mixtral's rule) after one dense layer, with a shared expert.</summary>
    public static TinyMoeSpec EightExperts { get; } =
        new(160, 256, 10, 4, 2, 64, 256, Experts: 8, ExpertsPerToken: 2, ExpertWidth: 256, SharedExperts: 1, FirstDense: 1, QkNorm: true);

    public static void Quantize(string f32, string output, QuantPreset preset)
    {
        NativeApi.llama_empty_call();
        // Straight to llama_model_quantize: LLamaSharp's wrapper refuses file types its list lacks (MXFP4_MOE).
        // llama_ftype numbers the presets as QuantPreset does.
        var parameters = LLamaModelQuantizeParams.Default();
        parameters.ftype = (LLamaFtype)(int)preset;
        parameters.nthread = 1;
        // llama-quantize quantizes the output tensor by default, as the native defaults do.
        parameters.quantize_output_tensor = true;
        Assert.True(NativeApi.llama_model_quantize(f32, output, ref parameters) == 0, $"llama.cpp did not quantize {f32} to {preset}");
    }
}
