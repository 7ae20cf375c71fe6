using GlmSharp.Tensors;

namespace GlmSharp.Models;

/// <summary>
/// llama.cpp's choice of a tensor's type under a llama-quantize preset with no importance matrix (llama_tensor_get_type in
/// src/llama-quant.cpp, for a model that is neither Falcon nor of its 70B size class), before the row-fit fallback.
/// It counts the attn_v and ffn_down tensors it has seen, as llama.cpp does, so tensors must come in llama.cpp's
/// order: by layer, then by name.
/// </summary>
internal sealed class QuantPresetMix(QuantPreset preset, QuantizationTarget target, int valueTensors)
{
    private int _valueIndex, _downIndex;

    public static GgmlType DefaultType(QuantPreset preset) => preset switch
    {
        QuantPreset.Q2_K => GgmlType.Q2_K,
        QuantPreset.Q3_K_S or QuantPreset.Q3_K_M or QuantPreset.Q3_K_L => GgmlType.Q3_K,
        QuantPreset.Q4_K_S or QuantPreset.Q4_K_M => GgmlType.Q4_K,
        QuantPreset.Q5_K_S or QuantPreset.Q5_K_M => GgmlType.Q5_K,
        QuantPreset.MXFP4_MOE => GgmlType.MXFP4,
        _ => GgmlType.Q6_K,
    };

    /// <summary>The type of the matrix <paramref name="name"/> of torch-order <paramref name="shape"/>.</summary>
    public GgmlType TypeOf(string name, long[] shape, bool tiedOutput)
    {
        var type = DefaultType(preset);
        int layers = target.Layers;
        long columns = shape[^1];
        if (preset == QuantPreset.MXFP4_MOE)
            // A stack of more than one expert is MXFP4; every other matrix, the LM head included, Q8_0.
            return shape.Length == 3 && shape[0] > 1 ? GgmlType.MXFP4 : GgmlType.Q8_0;
        if (name == "output.weight" || (tiedOutput && name == "token_embd.weight"))
            // The LM head keeps six bits, or Q8_0 where super-blocks do not tile its rows.
            return columns % GgmlTypeInfo.BlockSize(type) == 0 ? GgmlType.Q6_K : GgmlType.Q8_0;
        if (name.Contains("attn_v.weight", StringComparison.Ordinal))
        {
            type = ValueType(type, _valueIndex++);
            // Mixtral's rule: with exactly eight experts the value projection costs little, so it gets eight bits.
            return target.Experts == 8 ? GgmlType.Q8_0 : type;
        }
        if (name.Contains("attn_k.weight", StringComparison.Ordinal))
            return target.Experts == 8 ? GgmlType.Q8_0 : type;
        if (name.Contains("attn_output.weight", StringComparison.Ordinal))
            return OutputProjectionType(type);
        if (name.Contains("ffn_down", StringComparison.Ordinal))
        {
            // Experts of one layer are not consecutive in every file, so with experts the layer comes from the name.
            int layer = target.Experts > 1 ? GlmTensorNames.LayerOf(name) : _downIndex;
            _downIndex++;
            return DownType(type, layer, layers);
        }
        return type;
    }

    private GgmlType ValueType(GgmlType type, int index) => preset switch
    {
        QuantPreset.Q2_K => target.GroupedQueries >= 4 ? GgmlType.Q4_K : GgmlType.Q3_K,
        QuantPreset.Q3_K_M => index < 2 ? GgmlType.Q5_K : GgmlType.Q4_K,
        QuantPreset.Q3_K_L => GgmlType.Q5_K,
        QuantPreset.Q4_K_M or QuantPreset.Q5_K_M when UseMoreBits(index, valueTensors) => GgmlType.Q6_K,
        QuantPreset.Q4_K_S when index < 4 => GgmlType.Q5_K,
        _ => type,
    };

    private GgmlType OutputProjectionType(GgmlType type)
    {
        if (target.Experts == 8)
            return preset is QuantPreset.Q2_K or QuantPreset.Q3_K_S or QuantPreset.Q3_K_M or QuantPreset.Q4_K_S or QuantPreset.Q4_K_M
                ? GgmlType.Q5_K : type;
        return preset switch
        {
            QuantPreset.Q2_K => GgmlType.Q3_K,
            QuantPreset.Q3_K_M => GgmlType.Q4_K,
            QuantPreset.Q3_K_L => GgmlType.Q5_K,
            _ => type,
        };
    }

    private GgmlType DownType(GgmlType type, int layer, int layers) => preset switch
    {
        QuantPreset.Q2_K => GgmlType.Q3_K,
        QuantPreset.Q3_K_M => layer < layers / 16 ? GgmlType.Q5_K : GgmlType.Q4_K,
        QuantPreset.Q3_K_L => GgmlType.Q5_K,
        QuantPreset.Q4_K_M or QuantPreset.Q5_K_M when UseMoreBits(layer, layers) => GgmlType.Q6_K,
        QuantPreset.Q4_K_S when layer < layers / 8 => GgmlType.Q5_K,
        _ => type,
    };

    /// <summary>llama.cpp's use_more_bits: the first and last eighth of the layers and every third one between.</summary>
    private static bool UseMoreBits(int layer, int layers) =>
        layer < layers / 8 || layer >= 7 * layers / 8 || (layer - layers / 8) % 3 == 2;
}
