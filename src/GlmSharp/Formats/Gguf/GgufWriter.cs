using System.Text;
using GlmSharp.Tensors;

namespace GlmSharp.Formats.Gguf;

/// <summary>
/// Builds a GGUF v3 file. Metadata value types follow the .NET type of each value (uint → uint32, int → int32,
/// float → float32, string[] → array of string …; see <see cref="GgufValueTypes"/>). Tensor sizes are known up front,
/// so the header is written first and each tensor's bytes are then streamed to disk one at a time:
/// converting a multi-gigabyte model never holds more than one tensor (or one row) in memory.
/// </summary>
public sealed class GgufWriter
{
    private readonly List<KeyValuePair<string, object>> _metadata = [];
    private readonly List<PendingTensor> _tensors = [];
    private readonly HashSet<string> _tensorNames = new(StringComparer.Ordinal);

    private sealed record PendingTensor(string Name, GgmlType Type, long[] Shape, long ByteLength, Action<Stream> WriteData);

    public GgufWriter(uint alignment = GgufFile.DefaultAlignment)
    {
        if (alignment == 0 || (alignment & (alignment - 1)) != 0)
            throw new ArgumentException($"GGUF alignment must be a power of two, got {alignment}.", nameof(alignment));
        Alignment = alignment;
        if (alignment != GgufFile.DefaultAlignment) _metadata.Add(new(GgufFile.AlignmentKey, alignment));
    }

    public uint Alignment { get; }

    /// <summary>Sets a key (replacing an earlier value). Scalars and one-dimensional arrays of the GGUF value types only.</summary>
    public void SetMetadata(string key, object value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (key == GgufFile.AlignmentKey)
            throw new ArgumentException($"Set {GgufFile.AlignmentKey} through the GgufWriter constructor so tensor offsets agree with it.", nameof(key));
        CheckWritable(key, value);
        int existing = _metadata.FindIndex(kv => kv.Key == key);
        if (existing >= 0) _metadata[existing] = new(key, value);
        else _metadata.Add(new(key, value));
    }

    /// <summary>Adds a tensor whose bytes <paramref name="writeData"/> writes to the output stream when the file is written;
    /// it must write exactly the tensor's byte size for <paramref name="type"/> and the torch-order <paramref name="shape"/>.</summary>
    public void AddTensor(string name, GgmlType type, long[] shape, Action<Stream> writeData)
    {
        if (shape.Length is 0 or > GgufFile.MaxDimensions)
            throw new ArgumentException($"Tensor '{name}': GGUF tensors have 1 to {GgufFile.MaxDimensions} dimensions, got {shape.Length}.", nameof(shape));
        if (shape.Any(d => d < 0))
            throw new ArgumentException($"Tensor '{name}': negative dimension in [{string.Join(",", shape)}].", nameof(shape));
        if (!GgmlTypeInfo.IsGgufType(type))
            throw new ArgumentException($"Tensor '{name}': {type} is not a GGUF tensor type.", nameof(type));
        if (!_tensorNames.Add(name))
            throw new ArgumentException($"Tensor '{name}' was already added.", nameof(name));
        long size = GgmlTypeInfo.TensorByteSize(type, shape);
        _tensors.Add(new PendingTensor(name, type, (long[])shape.Clone(), size, writeData));
    }

    public void AddTensor(string name, GgmlType type, long[] shape, ReadOnlyMemory<byte> data)
    {
        long expected = GgmlTypeInfo.TensorByteSize(type, shape);
        if (data.Length != expected)
            throw new ArgumentException($"Tensor '{name}' ({type} [{string.Join(",", shape)}]) takes {expected} bytes, got {data.Length}.", nameof(data));
        AddTensor(name, type, shape, stream => stream.Write(data.Span));
    }

    /// <summary>Adds a tensor given as floats, converted to <paramref name="type"/> row by row while the file is written.</summary>
    public void AddTensorFromFloats(string name, GgmlType type, long[] shape, ReadOnlyMemory<float> values)
    {
        long count = shape.Aggregate(1L, (a, d) => a * d);
        if (values.Length != count)
            throw new ArgumentException($"Tensor '{name}' [{string.Join(",", shape)}] has {count} elements, got {values.Length} values.", nameof(values));
        int rowLength = (int)shape[^1];
        AddTensor(name, type, shape, stream =>
        {
            var row = new byte[GgmlTypeInfo.RowByteSize(type, rowLength)];
            for (int start = 0; start < values.Length; start += rowLength)
            {
                TensorCodec.QuantizeRow(type, values.Span.Slice(start, rowLength), row);
                stream.Write(row);
            }
        });
    }

    public void WriteTo(string path)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
            WriteHeader(stream);
            foreach (var tensor in _tensors)
            {
                long start = stream.Position;
                tensor.WriteData(stream);
                long written = stream.Position - start;
                if (written != tensor.ByteLength)
                    throw new InvalidOperationException($"Tensor '{tensor.Name}' ({tensor.Type} [{string.Join(",", tensor.Shape)}]) should be {tensor.ByteLength} bytes; its writer produced {written}.");
                Pad(stream);
            }
        }
        catch
        {
            File.Delete(path);
            throw;
        }
    }

    private void WriteHeader(Stream stream)
    {
        using var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        w.Write(GgufFile.Magic);
        w.Write(GgufFile.LatestVersion);
        w.Write((ulong)_tensors.Count);
        w.Write((ulong)_metadata.Count);
        foreach (var (key, value) in _metadata)
        {
            WriteString(w, key);
            WriteValue(w, value);
        }

        long offset = 0;
        foreach (var t in _tensors)
        {
            WriteString(w, t.Name);
            w.Write((uint)t.Shape.Length);
            for (int d = t.Shape.Length - 1; d >= 0; d--) w.Write(t.Shape[d]);
            w.Write((uint)t.Type);
            w.Write((ulong)offset);
            offset += AlignUp(t.ByteLength);
        }
        w.Flush();
        Pad(stream);
    }

    private static void WriteValue(BinaryWriter w, object value)
    {
        if (value is Array array)
        {
            var elementType = GgufValueTypes.FromClrType(array.GetType().GetElementType()!)!.Value;
            w.Write((uint)GgufValueType.Array);
            w.Write((uint)elementType);
            w.Write((ulong)array.LongLength);
            foreach (var item in array) WriteScalar(w, item!);
            return;
        }
        w.Write((uint)GgufValueTypes.FromClrType(value.GetType())!.Value);
        WriteScalar(w, value);
    }

    private static void WriteScalar(BinaryWriter w, object value)
    {
        switch (value)
        {
            case byte v: w.Write(v); break;
            case sbyte v: w.Write(v); break;
            case ushort v: w.Write(v); break;
            case short v: w.Write(v); break;
            case uint v: w.Write(v); break;
            case int v: w.Write(v); break;
            case float v: w.Write(v); break;
            case bool v: w.Write(v); break;
            case string v: WriteString(w, v); break;
            case ulong v: w.Write(v); break;
            case long v: w.Write(v); break;
            case double v: w.Write(v); break;
            default: throw new ArgumentException($"No GGUF value type for {value.GetType().Name}.");
        }
    }

    private static void WriteString(BinaryWriter w, string s)
    {
        var bytes = Encoding.UTF8.GetBytes(s);
        w.Write((ulong)bytes.Length);
        w.Write(bytes);
    }

    private static void CheckWritable(string key, object value)
    {
        var type = value.GetType();
        if (type.IsArray)
        {
            var element = type.GetElementType()!;
            if (type.GetArrayRank() != 1 || GgufValueTypes.FromClrType(element) is null)
                throw new ArgumentException($"Metadata '{key}': arrays of {element.Name} have no GGUF type (nested arrays are not supported).", nameof(value));
            if (element == typeof(string) && ((string?[])value).Any(s => s is null))
                throw new ArgumentException($"Metadata '{key}': string arrays may not contain null.", nameof(value));
            return;
        }
        if (GgufValueTypes.FromClrType(type) is null)
            throw new ArgumentException($"Metadata '{key}': {type.Name} has no GGUF value type.", nameof(value));
    }

    private long AlignUp(long n) => (n + Alignment - 1) / Alignment * Alignment;

    private void Pad(Stream stream)
    {
        long padding = AlignUp(stream.Position) - stream.Position;
        for (long i = 0; i < padding; i++) stream.WriteByte(0);
    }
}
