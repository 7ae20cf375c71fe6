using GlmSharp.Errors;
using GlmSharp.Tensors;

namespace GlmSharp.Formats.Gguf;

/// <summary>
/// A GGUF file (version 2 or 3, little-endian) mapped into memory: its metadata and its tensor table.
/// Every count, length and offset is checked against the file size before use, so a corrupt or truncated
/// file raises <see cref="ModelFormatException"/> instead of reading outside the mapping.
/// </summary>
public sealed unsafe class GgufFile : IDisposable
{
    /// <summary>"GGUF" read as a little-endian uint32.</summary>
    public const uint Magic = 0x46554747;
    public const uint LatestVersion = 3;
    public const uint DefaultAlignment = 32;
    public const string AlignmentKey = "general.alignment";

    /// <summary>ggml tensors have at most four dimensions (GGML_MAX_DIMS).</summary>
    public const int MaxDimensions = 4;

    private readonly MappedFile _file;
    private readonly Dictionary<string, GgufTensorInfo> _byName;

    public string Path => _file.Path;
    public uint Version { get; }
    public long Alignment { get; }

    /// <summary>File offset of the (aligned) data section that tensor offsets are relative to.</summary>
    public long DataOffset { get; }

    public GgufMetadata Metadata { get; }
    public IReadOnlyList<GgufTensorInfo> Tensors { get; }

    private GgufFile(MappedFile file)
    {
        _file = file;
        string origin = file.Path;
        var cursor = new GgufCursor(file.Pointer, file.Length, origin);

        uint magic = cursor.ReadUInt32("magic");
        if (magic != Magic)
            throw new ModelFormatException($"{origin}: not a GGUF file (magic 0x{magic:X8}, expected 0x{Magic:X8} \"GGUF\").");
        Version = cursor.ReadUInt32("version");
        if (Version is not (2 or 3))
            throw new ModelFormatException($"{origin}: GGUF version {Version} is not supported (expected 2 or 3; big-endian files are not supported).");

        long tensorCount = cursor.ReadCount("tensor count", minimumElementSize: 8 + 4 + 8 + 4 + 8);
        long kvCount = cursor.ReadCount("metadata count", minimumElementSize: 8 + 4 + 1);

        Metadata = new GgufMetadata(origin, ReadMetadata(ref cursor, kvCount, origin));
        Alignment = ReadAlignment(Metadata, origin);

        int capacity = (int)Math.Min(tensorCount, 1 << 16);
        var infos = new List<GgufTensorInfo>(capacity);
        _byName = new Dictionary<string, GgufTensorInfo>(capacity, StringComparer.Ordinal);
        var raw = new List<(string Name, long[] Ne, uint TypeId, ulong Offset)>(capacity);
        for (long i = 0; i < tensorCount; i++)
            raw.Add(ReadTensorHeader(ref cursor, i, origin));

        cursor.AlignTo(Alignment);
        DataOffset = cursor.Position;
        long dataLength = Math.Max(0, file.Length - DataOffset);

        foreach (var (name, ne, typeId, offset) in raw)
        {
            var info = MakeTensorInfo(name, ne, typeId, offset, dataLength, origin);
            if (!_byName.TryAdd(name, info))
                throw new ModelFormatException($"{origin}: tensor '{name}' appears more than once in the tensor table.");
            infos.Add(info);
        }
        Tensors = infos;
    }

    public static GgufFile Open(string path)
    {
        var file = new MappedFile(path);
        try
        {
            return new GgufFile(file);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    public bool TryGetTensorInfo(string name, out GgufTensorInfo info) => _byName.TryGetValue(name, out info!);

    /// <summary>A view of the tensor's bytes in the mapping, with its shape in PyTorch order.</summary>
    public TensorView GetTensor(string name) =>
        TryGetTensorInfo(name, out var info) ? View(info) : throw new ModelFormatException($"{Path}: tensor '{name}' is not in the file.");

    public TensorView View(GgufTensorInfo info) =>
        new(info.Name, info.Type, info.Shape, _file.Pointer + DataOffset + info.Offset, info.ByteLength, Path) { FileMapped = true };

    public void Dispose() => _file.Dispose();

    private static Dictionary<string, object> ReadMetadata(ref GgufCursor cursor, long count, string origin)
    {
        var values = new Dictionary<string, object>((int)Math.Min(count, 1 << 16), StringComparer.Ordinal);
        for (long i = 0; i < count; i++)
        {
            string key = cursor.ReadString($"metadata key #{i}");
            var type = (GgufValueType)cursor.ReadUInt32($"type of metadata '{key}'");
            object value = type == GgufValueType.Array
                ? ReadArray(ref cursor, key, origin)
                : ReadScalar(ref cursor, type, key, origin);
            if (!values.TryAdd(key, value))
                throw new ModelFormatException($"{origin}: metadata key '{key}' appears more than once.");
        }
        return values;
    }

    private static object ReadScalar(ref GgufCursor c, GgufValueType type, string key, string origin)
    {
        string what = $"value of metadata '{key}'";
        return type switch
        {
            GgufValueType.UInt8 => c.ReadByte(what),
            GgufValueType.Int8 => (sbyte)c.ReadByte(what),
            GgufValueType.UInt16 => c.ReadUInt16(what),
            GgufValueType.Int16 => (short)c.ReadUInt16(what),
            GgufValueType.UInt32 => c.ReadUInt32(what),
            GgufValueType.Int32 => (int)c.ReadUInt32(what),
            GgufValueType.Float32 => c.ReadSingle(what),
            GgufValueType.Bool => ReadBool(ref c, what, origin),
            GgufValueType.String => c.ReadString(what),
            GgufValueType.UInt64 => c.ReadUInt64(what),
            GgufValueType.Int64 => c.ReadInt64(what),
            GgufValueType.Float64 => c.ReadDouble(what),
            _ => throw new ModelFormatException($"{origin}: metadata '{key}' has unknown value type id {(uint)type}."),
        };
    }

    private static bool ReadBool(ref GgufCursor c, string what, string origin) => c.ReadByte(what) switch
    {
        0 => false,
        1 => true,
        var b => throw new ModelFormatException($"{origin}: {what} is a bool stored as {b}, expected 0 or 1."),
    };

    private static Array ReadArray(ref GgufCursor c, string key, string origin)
    {
        var elementType = (GgufValueType)c.ReadUInt32($"element type of metadata array '{key}'");
        if (elementType == GgufValueType.Array)
            throw new UnsupportedModelException($"{origin}: metadata '{key}' is an array of arrays, which GlmSharp does not read.");
        if (!Enum.IsDefined(elementType))
            throw new ModelFormatException($"{origin}: metadata array '{key}' has unknown element type id {(uint)elementType}.");
        long count = c.ReadCount($"length of metadata array '{key}'", GgufValueTypes.MinimumSize(elementType));
        return elementType switch
        {
            GgufValueType.String => ReadStrings(ref c, key, count),
            GgufValueType.Bool => ReadBools(ref c, key, count, origin),
            GgufValueType.UInt8 => ReadNumbers<byte>(ref c, key, count),
            GgufValueType.Int8 => ReadNumbers<sbyte>(ref c, key, count),
            GgufValueType.UInt16 => ReadNumbers<ushort>(ref c, key, count),
            GgufValueType.Int16 => ReadNumbers<short>(ref c, key, count),
            GgufValueType.UInt32 => ReadNumbers<uint>(ref c, key, count),
            GgufValueType.Int32 => ReadNumbers<int>(ref c, key, count),
            GgufValueType.Float32 => ReadNumbers<float>(ref c, key, count),
            GgufValueType.UInt64 => ReadNumbers<ulong>(ref c, key, count),
            GgufValueType.Int64 => ReadNumbers<long>(ref c, key, count),
            _ => ReadNumbers<double>(ref c, key, count),
        };
    }

    // GGUF v3 files are little-endian like every platform .NET runs GlmSharp on, so numbers copy straight over.
    private static T[] ReadNumbers<T>(ref GgufCursor c, string key, long count) where T : unmanaged
    {
        var bytes = c.Take(count * sizeof(T), $"elements of metadata array '{key}'");
        return System.Runtime.InteropServices.MemoryMarshal.Cast<byte, T>(bytes).ToArray();
    }

    private static string[] ReadStrings(ref GgufCursor c, string key, long count)
    {
        var array = new string[count];
        for (long i = 0; i < count; i++) array[i] = c.ReadString($"metadata '{key}[{i}]'");
        return array;
    }

    private static bool[] ReadBools(ref GgufCursor c, string key, long count, string origin)
    {
        var array = new bool[count];
        for (long i = 0; i < count; i++) array[i] = ReadBool(ref c, $"metadata '{key}[{i}]'", origin);
        return array;
    }

    private static long ReadAlignment(GgufMetadata metadata, string origin)
    {
        if (!metadata.TryGetUInt(AlignmentKey, out uint alignment)) return DefaultAlignment;
        if (alignment == 0 || (alignment & (alignment - 1)) != 0)
            throw new ModelFormatException($"{origin}: {AlignmentKey} is {alignment}, expected a power of two.");
        return alignment;
    }

    private static (string, long[], uint, ulong) ReadTensorHeader(ref GgufCursor c, long index, string origin)
    {
        string name = c.ReadString($"name of tensor #{index}");
        uint dims = c.ReadUInt32($"dimension count of tensor '{name}'");
        if (dims is 0 or > MaxDimensions)
            throw new ModelFormatException($"{origin}: tensor '{name}' has {dims} dimensions, expected 1 to {MaxDimensions}.");
        var ne = new long[dims];
        for (int d = 0; d < dims; d++)
        {
            ne[d] = c.ReadInt64($"dimension {d} of tensor '{name}'");
            if (ne[d] < 0)
                throw new ModelFormatException($"{origin}: tensor '{name}' has negative dimension {d} ({ne[d]}).");
        }
        uint typeId = c.ReadUInt32($"type of tensor '{name}'");
        ulong offset = c.ReadUInt64($"data offset of tensor '{name}'");
        return (name, ne, typeId, offset);
    }

    private GgufTensorInfo MakeTensorInfo(string name, long[] ne, uint typeId, ulong offset, long dataLength, string origin)
    {
        var type = (GgmlType)typeId;
        if (!Enum.IsDefined(type) || !GgmlTypeInfo.IsGgufType(type))
            throw new UnsupportedModelException($"{origin}: tensor '{name}' has ggml type id {typeId}, which GlmSharp does not know.");
        int blockSize = GgmlTypeInfo.BlockSize(type);
        if (ne[0] % blockSize != 0)
            throw new ModelFormatException($"{origin}: tensor '{name}' ({type}) has rows of {ne[0]} elements, not a multiple of the block size {blockSize}.");

        long size;
        try
        {
            long rows = 1;
            for (int d = 1; d < ne.Length; d++) rows = checked(rows * ne[d]);
            size = checked(rows * GgmlTypeInfo.RowByteSize(type, ne[0]));
        }
        catch (OverflowException)
        {
            throw new ModelFormatException($"{origin}: tensor '{name}' dimensions [{string.Join(",", ne)}] overflow a 64-bit byte count.");
        }

        if (offset % (ulong)Alignment != 0)
            throw new ModelFormatException($"{origin}: tensor '{name}' data offset {offset} is not a multiple of the alignment {Alignment}.");
        if (offset > (ulong)dataLength)
            throw new ModelFormatException($"{origin}: tensor '{name}' data offset {offset} lies outside the data section ({dataLength} bytes).");
        if (size > dataLength - (long)offset)
            throw new ModelFormatException($"{origin}: tensor '{name}' data [{offset}, {(long)offset + size}) runs past the end of the data section ({dataLength} bytes); the file is truncated.");
        return new GgufTensorInfo(name, ne, type, (long)offset, size);
    }
}
