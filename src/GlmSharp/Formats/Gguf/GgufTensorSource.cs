using GlmSharp.Errors;
using GlmSharp.Tensors;

namespace GlmSharp.Formats.Gguf;

/// <summary>
/// Exposes a GGUF file's tensors under Hugging Face names. The architecture layer owns the name table and passes it
/// as <c>ggufNameToHfName</c>; tensors it maps to null are not exposed.
/// </summary>
public sealed class GgufTensorSource : ITensorSource
{
    private readonly Dictionary<string, GgufTensorInfo> _byHfName = new(StringComparer.Ordinal);
    private readonly bool _ownsFile;

    public GgufFile File { get; }
    public string Origin => File.Path;
    public IReadOnlyCollection<string> Names => _byHfName.Keys;

    public GgufTensorSource(GgufFile file, Func<string, string?> ggufNameToHfName, bool ownsFile = true)
    {
        File = file;
        _ownsFile = ownsFile;
        var ggufNameOf = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var info in file.Tensors)
        {
            if (ggufNameToHfName(info.Name) is not { } hfName) continue;
            if (!_byHfName.TryAdd(hfName, info))
                throw new ModelFormatException($"{file.Path}: tensors '{ggufNameOf[hfName]}' and '{info.Name}' both map to '{hfName}'.");
            ggufNameOf[hfName] = info.Name;
        }
    }

    public static GgufTensorSource Open(string path, Func<string, string?> ggufNameToHfName)
    {
        var file = GgufFile.Open(path);
        try
        {
            return new GgufTensorSource(file, ggufNameToHfName);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    public bool TryGet(string name, out TensorView tensor)
    {
        if (_byHfName.TryGetValue(name, out var info))
        {
            tensor = File.View(info);
            return true;
        }
        tensor = null!;
        return false;
    }

    public void Dispose()
    {
        if (_ownsFile) File.Dispose();
    }
}
