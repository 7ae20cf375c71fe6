using GlmSharp.Configs;

namespace GlmSharp.Models;

/// <summary>
/// The hyper-parameters llama.cpp's quantizer consults when it picks tensor types: the block count (with the
/// multi-token-prediction layers, which the file counts as blocks), the routed expert count and the query heads per key-value head.
/// </summary>
public readonly record struct QuantizationTarget(int Layers, int Experts = 0, int GroupedQueries = 1)
{
    public static QuantizationTarget Of(ModelConfig config) => new(
        config.NumLayers + ((config as INextNConfig)?.NextNLayers ?? 0),
        (config as IMoeConfig)?.Moe.RoutedExperts ?? 0,
        // llama.cpp's n_gqa() is an integer division of the head counts.
        config.NumHeads / Math.Max(1, config.NumKvHeads));
}
