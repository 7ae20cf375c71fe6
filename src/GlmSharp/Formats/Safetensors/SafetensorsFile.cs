using System.Buffers.Binary;
using System.Text.Json;
using GlmSharp.Errors;
using GlmSharp.Tensors;

namespace GlmSharp.Formats.Safetensors;

/// <summary>
/// One .safetensors file mapped into memory: an 8-byte little-endian header length, a JSON header
/// (name → dtype, shape, data_offsets; optional __metadata__ of strings), then the raw tensor bytes.
/// Every offset is checked against the file size and against shape × dtype size when the file is opened.
/// </summary>
public sealed unsafe class SafetensorsFile : IDisposable
{
    /// <summary>The reference implementation refuses headers above 100 MB; so do we, before parsing.</summary>
    public const long MaxHeaderLength = 100_000_000;
    public const string MetadataKey = "__metadata__";

    private readonly MappedFile _file;
    private readonly Dictionary<string, SafetensorsTensorInfo> _byName = new(StringComparer.Ordinal);

    public string Path => _file.Path;

    /// <summary>File offset of the data section: 8 + header length.</summary>
    public long DataOffset { get; }

    public IReadOnlyDictionary<string, string> Metadata { get; }
    public IReadOnlyList<SafetensorsTensorInfo> Tensors { get; }

    private SafetensorsFile(MappedFile file)
    {
        _file = file;
        string origin = file.Path;
        if (file.Length < 8)
            throw new ModelFormatException($"{origin}: file is truncated while reading the 8-byte header length ({file.Length} bytes).");
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(new ReadOnlySpan<byte>(file.Pointer, 8));
        if (headerLength > (ulong)(file.Length - 8))
            throw new ModelFormatException($"{origin}: header length {headerLength} exceeds the {file.Length - 8} bytes after the length field.");
        if (headerLength > MaxHeaderLength)
            throw new ModelFormatException($"{origin}: header length {headerLength} exceeds the {MaxHeaderLength}-byte limit.");
        DataOffset = 8 + (long)headerLength;

        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        var tensors = new List<SafetensorsTensorInfo>();
        using var header = JsonText.ParseObject(file.Span(8, (int)headerLength).ToArray(), $"{origin}: header");
        foreach (var entry in header.RootElement.EnumerateObject())
        {
            if (entry.Name == MetadataKey)
            {
                ReadMetadata(entry.Value, metadata, origin);
                continue;
            }
            var info = ReadTensor(entry.Name, entry.Value, file.Length - DataOffset, origin);
            if (!_byName.TryAdd(info.Name, info))
                throw new ModelFormatException($"{origin}: tensor '{info.Name}' appears more than once in the header.");
            tensors.Add(info);
        }
        Metadata = metadata;
        Tensors = tensors;
    }

    public static SafetensorsFile Open(string path)
    {
        var file = new MappedFile(path);
        try
        {
            return new SafetensorsFile(file);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    public bool TryGetTensorInfo(string name, out SafetensorsTensorInfo info) => _byName.TryGetValue(name, out info!);

    /// <summary>A view of the tensor in the mapping. Raises <see cref="UnsupportedModelException"/> for dtypes
    /// GlmSharp does not compute with (anything but F32, F16, BF16, F8_E4M3).</summary>
    public TensorView View(SafetensorsTensorInfo info)
    {
        if (info.Dtype.ToGgmlType() is not { } type)
            throw new UnsupportedModelException($"{Path}: tensor '{info.Name}' has dtype {info.Dtype}; GlmSharp computes with F32, F16, BF16 and F8_E4M3 only.");
        return new TensorView(info.Name, type, info.Shape, _file.Pointer + DataOffset + info.Begin, info.ByteLength, Path);
    }

    public TensorView GetTensor(string name) =>
        TryGetTensorInfo(name, out var info) ? View(info) : throw new ModelFormatException($"{Path}: tensor '{name}' is not in the file.");

    public void Dispose() => _file.Dispose();

    private static void ReadMetadata(JsonElement element, Dictionary<string, string> metadata, string origin)
    {
        if (element.ValueKind != JsonValueKind.Object)
            throw new ModelFormatException($"{origin}: {MetadataKey} is a JSON {element.ValueKind}, expected an object of strings.");
        foreach (var kv in element.EnumerateObject())
        {
            if (kv.Value.ValueKind != JsonValueKind.String)
                throw new ModelFormatException($"{origin}: {MetadataKey}.{kv.Name} is a JSON {kv.Value.ValueKind}, expected a string.");
            metadata[kv.Name] = kv.Value.GetString()!;
        }
    }

    private static SafetensorsTensorInfo ReadTensor(string name, JsonElement entry, long dataLength, string origin)
    {
        string where = $"{origin}: tensor '{name}'";
        if (entry.ValueKind != JsonValueKind.Object)
            throw new ModelFormatException($"{where} header entry is a JSON {entry.ValueKind}, expected an object.");

        if (!entry.TryGetProperty("dtype", out var dtypeText) || dtypeText.ValueKind != JsonValueKind.String)
            throw new ModelFormatException($"{where} has no string 'dtype'.");
        if (!SafetensorsDtypes.TryParse(dtypeText.GetString()!, out var dtype))
            throw new UnsupportedModelException($"{where} has dtype '{dtypeText.GetString()}', which GlmSharp does not know.");

        var shape = ReadIntegers(entry, "shape", where, count: null);
        var offsets = ReadIntegers(entry, "data_offsets", where, count: 2);
        long begin = offsets[0], end = offsets[1];
        if (begin > end || end > dataLength)
            throw new ModelFormatException($"{where} data_offsets [{begin}, {end}] do not lie inside the {dataLength}-byte data section.");

        long expected;
        try
        {
            expected = shape.Aggregate((long)dtype.ElementSize(), (a, d) => checked(a * d));
        }
        catch (OverflowException)
        {
            throw new ModelFormatException($"{where} shape [{string.Join(",", shape)}] overflows a 64-bit byte count.");
        }
        if (end - begin != expected)
            throw new ModelFormatException($"{where} spans {end - begin} bytes, but shape [{string.Join(",", shape)}] of {dtype} needs {expected}.");
        return new SafetensorsTensorInfo(name, dtype, shape, begin, end);
    }

    private static long[] ReadIntegers(JsonElement entry, string property, string where, int? count)
    {
        if (!entry.TryGetProperty(property, out var array) || array.ValueKind != JsonValueKind.Array)
            throw new ModelFormatException($"{where} has no '{property}' array.");
        if (count is { } n && array.GetArrayLength() != n)
            throw new ModelFormatException($"{where} '{property}' has {array.GetArrayLength()} entries, expected {n}.");
        var values = new long[array.GetArrayLength()];
        int i = 0;
        foreach (var item in array.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt64(out values[i]) || values[i] < 0)
                throw new ModelFormatException($"{where} '{property}' entry {i} is {item.GetRawText()}, expected a non-negative integer.");
            i++;
        }
        return values;
    }
}
