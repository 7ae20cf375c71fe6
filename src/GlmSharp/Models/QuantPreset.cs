namespace GlmSharp.Models;

/// <summary>
/// llama-quantize's presets GlmSharp writes: the K-quant mixes and MXFP4_MOE, numbered as llama_ftype (the number a file carries in general.file_type).
/// </summary>
public enum QuantPreset
{
    Q2_K = 10,
    Q3_K_S = 11,
    Q3_K_M = 12,
    Q3_K_L = 13,
    Q4_K_S = 14,
    Q4_K_M = 15,
    Q5_K_S = 16,
    Q5_K_M = 17,
    Q6_K = 18,

    /// <summary>The experts in MXFP4 (as gpt-oss ships them), every other matrix in Q8_0.</summary>
    MXFP4_MOE = 38,
}
