using GlmSharp.Errors;
using GlmSharp.Tensors;

namespace GlmSharp.Formats.Safetensors;

/// <summary>
/// Tensors of a Hugging Face checkpoint: a single .safetensors file, or shards listed by
/// <c>model.safetensors.index.json</c>. Names are the checkpoint's own (already Hugging Face names).
/// </summary>
public sealed class SafetensorsTensorSource : ITensorSource
{
    private readonly List<SafetensorsFile> _files;
    private readonly Dictionary<string, (SafetensorsFile File, SafetensorsTensorInfo Info)> _tensors = new(StringComparer.Ordinal);

    public string Origin { get; }
    public IReadOnlyCollection<string> Names => _tensors.Keys;

    private SafetensorsTensorSource(string origin, List<SafetensorsFile> files)
    {
        Origin = origin;
        _files = files;
    }

    /// <summary>Opens a .safetensors file, an index .json file, or a folder holding either
    /// <c>model.safetensors.index.json</c> or <c>model.safetensors</c>.</summary>
    public static SafetensorsTensorSource Open(string path)
    {
        if (Directory.Exists(path))
        {
            string index = Path.Combine(path, SafetensorsIndex.FileName);
            if (File.Exists(index)) return OpenSharded(index);
            string single = Path.Combine(path, "model.safetensors");
            if (File.Exists(single)) return OpenSingle(single);
            throw new ModelFormatException($"{path}: holds neither {SafetensorsIndex.FileName} nor model.safetensors.");
        }
        if (!File.Exists(path)) throw new ModelFormatException($"{path}: no such file or folder.");
        return path.EndsWith(".json", StringComparison.OrdinalIgnoreCase) ? OpenSharded(path) : OpenSingle(path);
    }

    public static SafetensorsTensorSource OpenSingle(string path)
    {
        var file = SafetensorsFile.Open(path);
        var source = new SafetensorsTensorSource(path, [file]);
        foreach (var info in file.Tensors) source._tensors.Add(info.Name, (file, info));
        return source;
    }

    public static SafetensorsTensorSource OpenSharded(string indexPath)
    {
        var weightMap = SafetensorsIndex.ReadWeightMap(indexPath);
        string folder = Path.GetDirectoryName(Path.GetFullPath(indexPath))!;
        var source = new SafetensorsTensorSource(indexPath, []);
        try
        {
            var shards = new Dictionary<string, SafetensorsFile>(StringComparer.Ordinal);
            foreach (var (name, shardName) in weightMap)
            {
                if (!shards.TryGetValue(shardName, out var shard))
                {
                    string shardPath = Path.Combine(folder, shardName);
                    if (!File.Exists(shardPath))
                        throw new ModelFormatException($"{indexPath}: shard '{shardName}' (holding '{name}') is missing from {folder}.");
                    shard = SafetensorsFile.Open(shardPath);
                    source._files.Add(shard);
                    shards.Add(shardName, shard);
                }
                if (!shard.TryGetTensorInfo(name, out var info))
                    throw new ModelFormatException($"{indexPath}: tensor '{name}' is listed in shard '{shardName}', which does not contain it.");
                source._tensors.Add(name, (shard, info));
            }
            return source;
        }
        catch
        {
            source.Dispose();
            throw;
        }
    }

    /// <summary>False when the name is absent; <see cref="UnsupportedModelException"/> when present with a dtype
    /// GlmSharp does not compute with.</summary>
    public bool TryGet(string name, out TensorView tensor)
    {
        if (_tensors.TryGetValue(name, out var entry))
        {
            tensor = entry.File.View(entry.Info);
            return true;
        }
        tensor = null!;
        return false;
    }

    public bool TryGetInfo(string name, out SafetensorsTensorInfo info)
    {
        bool found = _tensors.TryGetValue(name, out var entry);
        info = entry.Info;
        return found;
    }

    public void Dispose()
    {
        foreach (var file in _files) file.Dispose();
        _files.Clear();
    }
}
