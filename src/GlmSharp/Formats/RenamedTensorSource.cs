using GlmSharp.Errors;
using GlmSharp.Tensors;

namespace GlmSharp.Formats;

/// <summary>
/// A checkpoint's tensors under the Hugging Face names models load, for a checkpoint stored under another layout's
/// names; tensors the map sends to null are left out. Views keep their stored names for error messages.
/// </summary>
public sealed class RenamedTensorSource : ITensorSource
{
    private readonly ITensorSource _inner;
    private readonly Dictionary<string, string> _storedNameOf = new(StringComparer.Ordinal);

    public RenamedTensorSource(ITensorSource inner, Func<string, string?> storedToHfName)
    {
        _inner = inner;
        foreach (var stored in inner.Names)
        {
            if (storedToHfName(stored) is not { } hfName) continue;
            if (!_storedNameOf.TryAdd(hfName, stored))
                throw new ModelFormatException($"{inner.Origin}: tensors '{_storedNameOf[hfName]}' and '{stored}' both map to '{hfName}'.");
        }
    }

    public string Origin => _inner.Origin;

    public IReadOnlyCollection<string> Names => _storedNameOf.Keys;

    public bool TryGet(string name, out TensorView tensor)
    {
        if (_storedNameOf.TryGetValue(name, out var stored)) return _inner.TryGet(stored, out tensor);
        tensor = null!;
        return false;
    }

    public void Dispose() => _inner.Dispose();
}
