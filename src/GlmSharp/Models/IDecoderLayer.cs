using GlmSharp.Kernels;
using GlmSharp.Kernels.Paging;

namespace GlmSharp.Models;

/// <summary>One transformer block: reads and updates the residual stream of a step's rows in place.</summary>
public interface IDecoderLayer
{
    /// <summary>What this layer keeps per cached position.</summary>
    LayerCacheSpec CacheSpec { get; }

    void Forward(DeviceSpan<float> hidden, in ForwardStep step, LayerCache cache);
}
