using GlmSharp.Kernels;
using GlmSharp.Kernels.Paging;

namespace GlmSharp.Models.Blocks;

/// <summary>
/// IndexShare (arXiv 2603.12201; GLM-5.2+): a "shared" layer has no indexer and attends to the positions the last
/// "full" layer before it chose. Layers run in order over the same rows, so that choice is still in the step's
/// selection buffer, and the layer caches nothing beyond its latents.
/// </summary>
public sealed class SharedKeySelection : IKeySelector
{
    public static SharedKeySelection Instance { get; } = new();

    private SharedKeySelection() { }

    public IReadOnlyList<CacheStream> CacheStreams => [];

    public KeySelection Select(DeviceSpan<float> x, DeviceSpan<float> queryLatent, in ForwardStep step, LayerCache cache, int firstStream) =>
        (step.Scratch.Dsa ?? throw new InvalidOperationException("a shared DSA layer needs the context's DSA buffers (a GlmMoeDsaConfig)")).Selection(step.Rows);
}
