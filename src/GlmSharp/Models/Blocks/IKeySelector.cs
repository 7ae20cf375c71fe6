using GlmSharp.Kernels;
using GlmSharp.Kernels.Paging;

namespace GlmSharp.Models.Blocks;

/// <summary>
/// Chooses which cached positions each row of a step attends to (DeepSeek sparse attention): a layer's own lightning
/// indexer (<see cref="DsaIndexer"/>), or, under IndexShare, the choice of the last layer that ran one
/// (<see cref="SharedKeySelection"/>).
/// </summary>
public interface IKeySelector
{
    /// <summary>What the selector caches per position; the attention lists these after its own streams.</summary>
    IReadOnlyList<CacheStream> CacheStreams { get; }

    /// <summary>
    /// Chooses for the step's rows from the normed hidden rows <paramref name="x"/> and the normed query latent, caching the
    /// step's positions in the layer's streams from <paramref name="firstStream"/> on.
    /// </summary>
    KeySelection Select(DeviceSpan<float> x, DeviceSpan<float> queryLatent, in ForwardStep step, LayerCache cache, int firstStream);
}
