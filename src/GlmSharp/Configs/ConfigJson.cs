using System.Text.Json;
using GlmSharp.Errors;
using GlmSharp.Formats;

namespace GlmSharp.Configs;

/// <summary>
/// Typed access to one JSON object of a config file. Every failure names the file and the key,
/// so a user can fix the file without reading our code.
/// </summary>
public sealed class ConfigJson
{
    private readonly JsonElement _root;

    public string Origin { get; }

    public ConfigJson(JsonElement root, string origin)
    {
        if (root.ValueKind != JsonValueKind.Object)
            throw new ModelFormatException($"{origin}: expected a JSON object, found {root.ValueKind}");
        _root = root;
        Origin = origin;
    }

    public static ConfigJson Load(string path)
    {
        if (!File.Exists(path)) throw new ModelFormatException($"{path}: file not found");
        using var doc = JsonText.ParseObject(File.ReadAllBytes(path), path);
        return new ConfigJson(doc.RootElement.Clone(), path);
    }

    public static ConfigJson Parse(string json, string origin)
    {
        using var doc = JsonText.ParseObject(json, origin);
        return new ConfigJson(doc.RootElement.Clone(), origin);
    }

    public bool Has(string key) => _root.TryGetProperty(key, out var v) && v.ValueKind != JsonValueKind.Null;

    public ConfigJson? Object(string key) =>
        _root.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Object ? new ConfigJson(v, $"{Origin}:{key}") : null;

    public string? OptString(string key) => Get(key, JsonValueKind.String, "a string") is { } v ? v.GetString() : null;

    public string String(string key) => OptString(key) ?? throw Missing(key, "a string");

    public int? OptInt(string key)
    {
        if (Get(key, JsonValueKind.Number, "an integer") is not { } v) return null;
        if (!v.TryGetInt32(out int i)) throw new ModelFormatException($"{Origin}: field '{key}' must be an integer, found {v.GetRawText()}");
        return i;
    }

    public int Int(string key) => OptInt(key) ?? throw Missing(key, "an integer");

    public double? OptDouble(string key) => Get(key, JsonValueKind.Number, "a number") is { } v ? v.GetDouble() : null;

    public double Double(string key) => OptDouble(key) ?? throw Missing(key, "a number");

    public bool? OptBool(string key)
    {
        if (!_root.TryGetProperty(key, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        return v.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw new ModelFormatException($"{Origin}: field '{key}' must be true or false, found {v.GetRawText()}"),
        };
    }

    /// <summary>Reads a key that Hugging Face configs write either as one integer or as a list (eos_token_id).</summary>
    public int[] IntOrIntList(string key)
    {
        if (!_root.TryGetProperty(key, out var v) || v.ValueKind == JsonValueKind.Null) return [];
        if (v.ValueKind == JsonValueKind.Number) return [OptInt(key)!.Value];
        if (v.ValueKind != JsonValueKind.Array)
            throw new ModelFormatException($"{Origin}: field '{key}' must be an integer or a list of integers, found {v.GetRawText()}");
        var list = new List<int>();
        foreach (var item in v.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt32(out int i))
                throw new ModelFormatException($"{Origin}: field '{key}' must hold integers, found {item.GetRawText()}");
            list.Add(i);
        }
        return [.. list];
    }

    public JsonElement? Raw(string key) => _root.TryGetProperty(key, out var v) ? v : null;

    private JsonElement? Get(string key, JsonValueKind kind, string what)
    {
        if (!_root.TryGetProperty(key, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind != kind) throw new ModelFormatException($"{Origin}: field '{key}' must be {what}, found {v.GetRawText()}");
        return v;
    }

    private ModelFormatException Missing(string key, string what) =>
        new($"{Origin}: required field '{key}' ({what}) is missing");
}
