namespace GlmSharp.Formats.Gguf;

/// <summary>Metadata value types, numbered as in the GGUF specification.</summary>
public enum GgufValueType : uint
{
    UInt8 = 0,
    Int8 = 1,
    UInt16 = 2,
    Int16 = 3,
    UInt32 = 4,
    Int32 = 5,
    Float32 = 6,
    Bool = 7,
    String = 8,
    Array = 9,
    UInt64 = 10,
    Int64 = 11,
    Float64 = 12,
}

/// <summary>The one mapping between GGUF value types and the plain .NET types metadata is exposed as.</summary>
public static class GgufValueTypes
{
    public static Type ClrType(GgufValueType type) => type switch
    {
        GgufValueType.UInt8 => typeof(byte),
        GgufValueType.Int8 => typeof(sbyte),
        GgufValueType.UInt16 => typeof(ushort),
        GgufValueType.Int16 => typeof(short),
        GgufValueType.UInt32 => typeof(uint),
        GgufValueType.Int32 => typeof(int),
        GgufValueType.Float32 => typeof(float),
        GgufValueType.Bool => typeof(bool),
        GgufValueType.String => typeof(string),
        GgufValueType.UInt64 => typeof(ulong),
        GgufValueType.Int64 => typeof(long),
        GgufValueType.Float64 => typeof(double),
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "no single .NET type"),
    };

    /// <summary>The GGUF type a .NET scalar is written as, or null when it has none.</summary>
    public static GgufValueType? FromClrType(Type type) =>
        type == typeof(byte) ? GgufValueType.UInt8
        : type == typeof(sbyte) ? GgufValueType.Int8
        : type == typeof(ushort) ? GgufValueType.UInt16
        : type == typeof(short) ? GgufValueType.Int16
        : type == typeof(uint) ? GgufValueType.UInt32
        : type == typeof(int) ? GgufValueType.Int32
        : type == typeof(float) ? GgufValueType.Float32
        : type == typeof(bool) ? GgufValueType.Bool
        : type == typeof(string) ? GgufValueType.String
        : type == typeof(ulong) ? GgufValueType.UInt64
        : type == typeof(long) ? GgufValueType.Int64
        : type == typeof(double) ? GgufValueType.Float64
        : null;

    /// <summary>Describes a metadata value's type in GGUF terms ("uint32", "array of string") for error messages.</summary>
    public static string Describe(object value)
    {
        var type = value.GetType();
        if (type.IsArray && type.GetElementType() is { } element)
            return "array of " + Describe(element);
        return Describe(type);
    }

    public static string Describe(Type type) =>
        type.IsArray && type.GetElementType() is { } element ? "array of " + Describe(element)
        : FromClrType(type) is { } t ? t.ToString().ToLowerInvariant()
        : type.Name;

    /// <summary>Minimum bytes one value of the type occupies on disk; used to reject impossible counts early.</summary>
    internal static int MinimumSize(GgufValueType type) => type switch
    {
        GgufValueType.UInt8 or GgufValueType.Int8 or GgufValueType.Bool => 1,
        GgufValueType.UInt16 or GgufValueType.Int16 => 2,
        GgufValueType.UInt32 or GgufValueType.Int32 or GgufValueType.Float32 => 4,
        GgufValueType.UInt64 or GgufValueType.Int64 or GgufValueType.Float64 or GgufValueType.String => 8,
        GgufValueType.Array => 12,
        _ => 1,
    };
}
