using GlmSharp.Configs;
using GlmSharp.Formats;
using GlmSharp.Kernels.Paging;
using GlmSharp.Tensors;

namespace GlmSharp.Models;

/// <summary>
/// The tensors a model of a given config expects, found by building the model against this listing instead of
/// a checkpoint. Optional tensors (biases, an untied LM head) count as present exactly when the config says so.
/// </summary>
public sealed unsafe class TensorListing : ITensorSource
{
    private readonly ModelConfig _config;
    private readonly List<(string Name, long[] Shape)> _tensors = [];

    private TensorListing(ModelConfig config) => _config = config;

    public IReadOnlyList<(string Name, long[] Shape)> Tensors => _tensors;

    public string Origin => $"tensor listing of {_config.ModelType}";

    public IReadOnlyCollection<string> Names => _tensors.Select(t => t.Name).ToArray();

    /// <summary>
    /// Every tensor name and shape (PyTorch order) of the architecture at this config, in build order; the
    /// multi-token-prediction layer, which a model builds only when it drafts, included.
    /// </summary>
    public static IReadOnlyList<(string Name, long[] Shape)> For(IArchitecture architecture, ModelConfig config)
    {
        var listing = new TensorListing(config);
        _ = architecture.Build(config, listing, WeightBuilder.ForListing(listing)).NextN;
        return listing.Tensors;
    }

    /// <summary>What each layer of the architecture at this config caches per position, from a build that reads no weights.</summary>
    public static IReadOnlyList<LayerCacheSpec> CacheLayout(IArchitecture architecture, ModelConfig config)
    {
        var listing = new TensorListing(config);
        return architecture.Build(config, listing, WeightBuilder.ForListing(listing)).CacheLayout;
    }

    internal bool IsPresent(string name) =>
        // GLM-5's indexer keys pass through a LayerNorm with a bias in every released checkpoint.
        name.EndsWith(".indexer.k_norm.bias", StringComparison.Ordinal) ? true
        : name.EndsWith(".bias", StringComparison.Ordinal) ? _config.AttentionBias
        : name == "lm_head.weight" ? !_config.TieWordEmbeddings
        : _tensors.Any(t => t.Name == name);

    internal TensorView Record(string name, long[] shape)
    {
        _tensors.Add((name, shape));
        return new TensorView(name, GgmlType.F32, shape, null, 0, Origin);
    }

    public bool TryGet(string name, out TensorView tensor)
    {
        tensor = null!;
        return false;
    }

    public void Dispose() { }
}
