using GlmSharp.Kernels;
using GlmSharp.Kernels.Paging;

namespace GlmSharp.Models.Blocks;

/// <summary>A layer's attention sublayer (grouped-query or latent): what it caches per position, and its forward pass.</summary>
public interface IAttentionBlock
{
    LayerCacheSpec CacheSpec { get; }

    /// <summary>Reads the normed rows <paramref name="x"/>, writes the sublayer's output <paramref name="y"/>, and caches the step's positions.</summary>
    void Forward(DeviceSpan<float> x, DeviceSpan<float> y, in ForwardStep step, LayerCache cache);
}
