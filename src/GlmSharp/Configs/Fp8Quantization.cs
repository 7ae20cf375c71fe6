using System.Text.Json;
using GlmSharp.Errors;

namespace GlmSharp.Configs;

/// <summary>
/// config.json's <c>quantization_config</c> of a block-wise FP8 checkpoint (as DeepSeek-V3 and GLM-4.5-FP8 ship):
/// <c>{"quant_method": "fp8", "fmt": "e4m3", "weight_block_size": [128, 128]}</c>; each quantized Linear then holds
/// <c>weight</c> in F8_E4M3 and <c>weight_scale_inv</c>, one scale per block, despite its name a multiplier.
/// </summary>
public sealed record Fp8Quantization(int BlockRows, int BlockColumns)
{
    public const string Key = "quantization_config";

    /// <summary>The FP8 block layout of a config, or null when it declares no quantization.</summary>
    public static Fp8Quantization? FromConfig(ConfigJson config)
    {
        if (!config.Has(Key)) return null;
        var q = config.Object(Key) ?? throw new ModelFormatException($"{config.Origin}: field '{Key}' must be an object");
        string method = q.String("quant_method");
        if (method != "fp8")
            throw new UnsupportedModelException($"{q.Origin}: quant_method '{method}' is not supported; GlmSharp reads block-wise 'fp8' checkpoints");
        string format = q.OptString("fmt") ?? "e4m3";
        if (format != "e4m3")
            throw new UnsupportedModelException($"{q.Origin}: fmt '{format}' is not supported; GlmSharp reads FP8 'e4m3' weights");
        var block = q.Raw("weight_block_size");
        if (block is not { ValueKind: JsonValueKind.Array } sizes || sizes.GetArrayLength() != 2
            || !sizes[0].TryGetInt32(out int rows) || !sizes[1].TryGetInt32(out int columns) || rows <= 0 || columns <= 0)
            throw new ModelFormatException($"{q.Origin}: 'weight_block_size' must be two positive integers [rows, columns], found {block?.GetRawText() ?? "nothing"}");
        return new Fp8Quantization(rows, columns);
    }
}
