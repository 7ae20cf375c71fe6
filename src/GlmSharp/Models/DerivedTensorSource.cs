using GlmSharp.Formats;
using GlmSharp.Tensors;

namespace GlmSharp.Models;

/// <summary>
/// A checkpoint's tensors with some stored ones replaced by tensors derived from them (a fused projection served as its
/// parts): the derived ones are found under their own names, the stored ones they replace are no longer listed or found.
/// </summary>
public abstract class DerivedTensorSource(ITensorSource inner) : ITensorSource
{
    private readonly Dictionary<string, TensorView> _derived = new(StringComparer.Ordinal);
    private readonly HashSet<string> _replaced = new(StringComparer.Ordinal);
    private IReadOnlyCollection<string>? _names;

    protected ITensorSource Inner => inner;

    /// <summary>Hides the stored tensor <paramref name="stored"/>.</summary>
    protected void Replace(string stored) => _replaced.Add(stored);

    /// <summary>Serves <paramref name="tensor"/> as <paramref name="name"/>.</summary>
    protected void Derive(string name, TensorView tensor) => _derived[name] = tensor;

    public string Origin => inner.Origin;

    public IReadOnlyCollection<string> Names => _names ??= [.. inner.Names.Where(n => !_replaced.Contains(n)), .. _derived.Keys];

    public bool TryGet(string name, out TensorView tensor)
    {
        if (_derived.TryGetValue(name, out tensor!)) return true;
        if (_replaced.Contains(name)) return false;
        return inner.TryGet(name, out tensor);
    }

    /// <summary>Frees the derived tensors that own their memory (copies), then the checkpoint.</summary>
    public void Dispose()
    {
        foreach (var tensor in _derived.Values) tensor.Storage?.Dispose();
        inner.Dispose();
    }
}
