using GlmSharp.Configs;
using GlmSharp.Errors;

namespace GlmSharp.Models;

/// <summary>
/// How llama.cpp's GGUF counts multi-token-prediction layers (glm4moe, deepseek2, glm-dsa): its converter appends them to
/// the main stack as <c>blk.{num_hidden_layers}…</c>, so block_count includes them, and nextn_predict_layers says how many
/// of the last blocks they are.
/// </summary>
public static class NextNGgufKeys
{
    /// <summary>The dense fields of the main stack (block_count − nextn_predict_layers) and the NextN layer count.</summary>
    public static (ModelConfig MainStack, int NextNLayers) Read(GgufModelMetadata gguf, ModelConfig fields)
    {
        int nextN = gguf.OptInt("nextn_predict_layers") ?? 0;
        if (nextN < 0 || nextN >= fields.NumLayers)
            throw new ModelFormatException($"{gguf.Origin}: {gguf.Architecture}.nextn_predict_layers {nextN} leaves no main layers of block_count {fields.NumLayers}");
        return (fields with { NumLayers = fields.NumLayers - nextN }, nextN);
    }

    /// <summary>The dense keys of <paramref name="mainStack"/> with block_count counting the NextN layers too, and nextn_predict_layers.</summary>
    public static Dictionary<string, object> DenseKeys(ModelConfig mainStack, int nextNLayers, string architecture)
    {
        var keys = GgufModelMetadata.FromDenseConfig(mainStack with { NumLayers = mainStack.NumLayers + nextNLayers }, architecture);
        keys[$"{architecture}.nextn_predict_layers"] = (uint)nextNLayers;
        return keys;
    }
}
