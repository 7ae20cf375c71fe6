namespace GlmSharp.Models;

/// <summary>
/// llama-quantize's K-quant presets, numbered as llama_ftype (the number a file carries in general.file_type).
/// </summary>
public enum KQuantPreset
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
}
