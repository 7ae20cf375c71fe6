using GlmSharp.Configs;
using GlmSharp.Kernels;

namespace GlmSharp.Models;

/// <summary>
/// The state of one conversation with a model: its KV cache (one per layer), how many positions are filled,
/// and the activation buffers. Not thread-safe; use one session per concurrent sequence.
/// </summary>
public sealed class ModelSession
{
    public LayerKvCache[] Layers { get; }
    public ForwardScratch Scratch { get; }
    public int ContextLength { get; }

    /// <summary>Number of tokens already in the cache; the next token goes to this position.</summary>
    public int Length { get; internal set; }

    internal ModelSession(ModelConfig config, int contextLength, int maxBatchRows)
    {
        ContextLength = contextLength;
        Layers = new LayerKvCache[config.NumLayers];
        for (int i = 0; i < Layers.Length; i++) Layers[i] = new LayerKvCache(contextLength, config.NumKvHeads, config.HeadDim);
        Scratch = new ForwardScratch(config, maxBatchRows);
    }

    /// <summary>Forgets cached positions from <paramref name="length"/> on (e.g. to reuse a shared prompt prefix).</summary>
    public void Truncate(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, Length);
        Length = length;
    }
}
