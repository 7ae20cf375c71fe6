using GlmSharp.Tensors;

namespace GlmSharp.Kernels;

/// <summary>
/// Element type of the keys and values kept in a session's cache. F16 is the default, as in llama.cpp: it halves
/// the cache against F32 for a rounding far below what sampling notices. Q8_0 halves it again (ggml's 32-value
/// blocks with one fp16 scale, per head row).
/// </summary>
public enum KvCacheType
{
    F32,
    F16,
    Q8_0,
}

public static class KvCacheTypes
{
    /// <summary>The names <see cref="Parse"/> accepts, as llama.cpp's --cache-type-k spells them.</summary>
    public static IReadOnlyList<string> Names { get; } = ["f32", "f16", "q8_0"];

    public static string Name(this KvCacheType type) => type switch
    {
        KvCacheType.F32 => "f32",
        KvCacheType.F16 => "f16",
        KvCacheType.Q8_0 => "q8_0",
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "not a KV cache type"),
    };

    /// <summary>The type named <paramref name="text"/> (case-insensitive), or null when it names none.</summary>
    public static KvCacheType? Parse(string text)
    {
        for (int i = 0; i < Names.Count; i++)
            if (string.Equals(Names[i], text, StringComparison.OrdinalIgnoreCase)) return (KvCacheType)i;
        return null;
    }

    /// <summary>The ggml element type that stores the same values, for handing the choice to llama.cpp.</summary>
    public static GgmlType ToGgmlType(this KvCacheType type) => type switch
    {
        KvCacheType.F32 => GgmlType.F32,
        KvCacheType.F16 => GgmlType.F16,
        KvCacheType.Q8_0 => GgmlType.Q8_0,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "not a KV cache type"),
    };

    /// <summary>Bytes of one head row of <paramref name="headDim"/> values.</summary>
    public static int RowBytes(this KvCacheType type, int headDim) => type switch
    {
        KvCacheType.F32 => headDim * sizeof(float),
        KvCacheType.F16 => headDim * sizeof(ushort),
        KvCacheType.Q8_0 => headDim / Q8_0.BlockSize * Q8_0.BytesPerBlock,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "not a KV cache type"),
    };
}
