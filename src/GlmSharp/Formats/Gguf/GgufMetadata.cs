using System.Collections;
using System.Diagnostics.CodeAnalysis;
using GlmSharp.Errors;

namespace GlmSharp.Formats.Gguf;

/// <summary>
/// GGUF key/value metadata as plain .NET values (uint, float, string, string[], int[] …) with typed accessors.
/// A missing key or a value of the wrong type raises <see cref="ModelFormatException"/> naming the file, the key,
/// the expected and the found type. TryGet… returns false only when the key is absent; a present key of the wrong
/// type is still an error, since silently falling back to a default would hide a corrupt file.
/// </summary>
public sealed class GgufMetadata(string origin, IReadOnlyDictionary<string, object> values) : IReadOnlyDictionary<string, object>
{
    public string Origin { get; } = origin;

    public string GetString(string key) => TryGetString(key, out var v) ? v : throw Missing(key, "string");

    public bool TryGetString(string key, [NotNullWhen(true)] out string? value) => TryGetExact(key, "string", out value);

    public bool GetBool(string key) => TryGetBool(key, out var v) ? v : throw Missing(key, "bool");

    public bool TryGetBool(string key, out bool value) => TryGetExact(key, "bool", out value);

    /// <summary>An integer of any stored width that fits in uint.</summary>
    public uint GetUInt(string key) => TryGetUInt(key, out var v) ? v : throw Missing(key, "integer");

    public bool TryGetUInt(string key, out uint value)
    {
        value = 0;
        if (!TryGetInteger(key, out var v)) return false;
        if (v < 0 || v > uint.MaxValue) throw OutOfRange(key, v, "uint32");
        value = (uint)v;
        return true;
    }

    /// <summary>An integer of any stored width that fits in int.</summary>
    public int GetInt(string key) => TryGetInt(key, out var v) ? v : throw Missing(key, "integer");

    public bool TryGetInt(string key, out int value)
    {
        value = 0;
        if (!TryGetInteger(key, out var v)) return false;
        if (v < int.MinValue || v > int.MaxValue) throw OutOfRange(key, v, "int32");
        value = (int)v;
        return true;
    }

    /// <summary>An integer of any stored width that fits in ulong.</summary>
    public ulong GetUInt64(string key) => TryGetUInt64(key, out var v) ? v : throw Missing(key, "integer");

    public bool TryGetUInt64(string key, out ulong value)
    {
        value = 0;
        if (!values.TryGetValue(key, out var raw)) return false;
        if (raw is ulong u) { value = u; return true; }
        if (!TryGetInteger(key, out var v)) return false;
        if (v < 0) throw OutOfRange(key, v, "uint64");
        value = (ulong)v;
        return true;
    }

    /// <summary>A float32 or float64 value, as float.</summary>
    public float GetFloat(string key) => TryGetFloat(key, out var v) ? v : throw Missing(key, "float");

    public bool TryGetFloat(string key, out float value)
    {
        value = 0;
        if (!values.TryGetValue(key, out var raw)) return false;
        value = raw switch
        {
            float f => f,
            double d => (float)d,
            _ => throw WrongType(key, "float32 or float64", raw),
        };
        return true;
    }

    /// <summary>An array whose elements are stored exactly as <typeparamref name="T"/> (string, int, uint, float …).</summary>
    public T[] GetArray<T>(string key) => TryGetArray<T>(key, out var v) ? v : throw Missing(key, GgufValueTypes.Describe(typeof(T[])));

    public bool TryGetArray<T>(string key, [NotNullWhen(true)] out T[]? value) => TryGetExact(key, GgufValueTypes.Describe(typeof(T[])), out value);

    private bool TryGetExact<T>(string key, string expected, [NotNullWhen(true)] out T? value)
    {
        value = default;
        if (!values.TryGetValue(key, out var raw)) return false;
        if (raw is not T typed) throw WrongType(key, expected, raw);
        value = typed;
        return true;
    }

    private bool TryGetInteger(string key, out long value)
    {
        value = 0;
        if (!values.TryGetValue(key, out var raw)) return false;
        value = raw switch
        {
            byte v => v,
            sbyte v => v,
            ushort v => v,
            short v => v,
            uint v => v,
            int v => v,
            long v => v,
            ulong v when v <= long.MaxValue => (long)v,
            ulong v => throw new ModelFormatException($"{Origin}: metadata key '{key}' holds {v}, larger than GlmSharp accepts here."),
            _ => throw WrongType(key, "integer", raw),
        };
        return true;
    }

    private ModelFormatException Missing(string key, string expected) =>
        new($"{Origin}: metadata key '{key}' ({expected}) is missing.");

    private ModelFormatException WrongType(string key, string expected, object found) =>
        new($"{Origin}: metadata key '{key}' is {GgufValueTypes.Describe(found)}, expected {expected}.");

    private ModelFormatException OutOfRange(string key, long value, string expected) =>
        new($"{Origin}: metadata key '{key}' holds {value}, which does not fit {expected}.");

    public object this[string key] => values[key];
    public IEnumerable<string> Keys => values.Keys;
    public IEnumerable<object> Values => values.Values;
    public int Count => values.Count;
    public bool ContainsKey(string key) => values.ContainsKey(key);
    public bool TryGetValue(string key, [MaybeNullWhen(false)] out object value) => values.TryGetValue(key, out value);
    public IEnumerator<KeyValuePair<string, object>> GetEnumerator() => values.GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
