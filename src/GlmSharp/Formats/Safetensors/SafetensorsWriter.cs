using System.Buffers.Binary;
using System.Text.Json;
using GlmSharp.Tensors;

namespace GlmSharp.Formats.Safetensors;

/// <summary>
/// Writes safetensors checkpoints, one file or shards plus <c>model.safetensors.index.json</c>.
/// Tensor bytes are streamed to disk one tensor at a time, after a header computed from the known sizes.
/// </summary>
public sealed class SafetensorsWriter
{
    private readonly List<PendingTensor> _tensors = [];
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _metadata = new(StringComparer.Ordinal);

    private sealed record PendingTensor(string Name, SafetensorsDtype Dtype, long[] Shape, long ByteLength, Action<Stream> WriteData);

    public void SetMetadata(string key, string value) => _metadata[key] = value;

    public void Add(string name, SafetensorsDtype dtype, long[] shape, Action<Stream> writeData)
    {
        if (name == SafetensorsFile.MetadataKey) throw new ArgumentException($"'{name}' is reserved.", nameof(name));
        if (shape.Any(d => d < 0)) throw new ArgumentException($"Tensor '{name}': negative dimension in [{string.Join(",", shape)}].", nameof(shape));
        if (!_names.Add(name)) throw new ArgumentException($"Tensor '{name}' was already added.", nameof(name));
        long size = shape.Aggregate((long)dtype.ElementSize(), (a, d) => checked(a * d));
        _tensors.Add(new PendingTensor(name, dtype, (long[])shape.Clone(), size, writeData));
    }

    public void Add(string name, SafetensorsDtype dtype, long[] shape, ReadOnlyMemory<byte> data)
    {
        long expected = shape.Aggregate((long)dtype.ElementSize(), (a, d) => a * d);
        if (data.Length != expected)
            throw new ArgumentException($"Tensor '{name}' ({dtype} [{string.Join(",", shape)}]) takes {expected} bytes, got {data.Length}.", nameof(data));
        Add(name, dtype, shape, stream => stream.Write(data.Span));
    }

    /// <summary>Adds floats stored as F32, F16 or BF16 (converted with round-to-nearest-even while writing).</summary>
    public void AddFloats(string name, SafetensorsDtype dtype, long[] shape, ReadOnlyMemory<float> values)
    {
        if (dtype.ToGgmlType() is not { } type || !TensorCodec.CanQuantize(type))
            throw new ArgumentException($"Tensor '{name}': floats can be stored as F32, F16 or BF16, not {dtype}.", nameof(dtype));
        long count = shape.Aggregate(1L, (a, d) => a * d);
        if (values.Length != count)
            throw new ArgumentException($"Tensor '{name}' [{string.Join(",", shape)}] has {count} elements, got {values.Length} values.", nameof(values));
        Add(name, dtype, shape, stream =>
        {
            const int chunk = 1 << 16;
            var buffer = new byte[chunk * dtype.ElementSize()];
            for (int start = 0; start < values.Length; start += chunk)
            {
                int n = Math.Min(chunk, values.Length - start);
                var bytes = buffer.AsSpan(0, n * dtype.ElementSize());
                TensorCodec.QuantizeRow(type, values.Span.Slice(start, n), bytes);
                stream.Write(bytes);
            }
        });
    }

    public void WriteTo(string path) => WriteFile(path, _tensors);

    /// <summary>Splits tensors, in order, into shards of at most <paramref name="maxShardBytes"/> of data (a larger tensor gets a
    /// shard of its own), named <c>model-00001-of-0000N.safetensors</c>, and writes the index beside them.
    /// Returns the shard paths.</summary>
    public IReadOnlyList<string> WriteSharded(string folder, long maxShardBytes)
    {
        var shards = new List<List<PendingTensor>>();
        long current = 0;
        foreach (var t in _tensors)
        {
            if (shards.Count == 0 || (current > 0 && current + t.ByteLength > maxShardBytes))
            {
                shards.Add([]);
                current = 0;
            }
            shards[^1].Add(t);
            current += t.ByteLength;
        }

        Directory.CreateDirectory(folder);
        var paths = new List<string>();
        var weightMap = new SortedDictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < shards.Count; i++)
        {
            string name = $"model-{i + 1:D5}-of-{shards.Count:D5}.safetensors";
            string path = Path.Combine(folder, name);
            WriteFile(path, shards[i]);
            paths.Add(path);
            foreach (var t in shards[i]) weightMap[t.Name] = name;
        }
        WriteIndex(Path.Combine(folder, SafetensorsIndex.FileName), _tensors.Sum(t => t.ByteLength), weightMap);
        return paths;
    }

    private void WriteFile(string path, List<PendingTensor> tensors)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
            var header = Header(tensors);
            Span<byte> length = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
            stream.Write(length);
            stream.Write(header);
            foreach (var t in tensors)
            {
                long start = stream.Position;
                t.WriteData(stream);
                if (stream.Position - start != t.ByteLength)
                    throw new InvalidOperationException($"Tensor '{t.Name}' ({t.Dtype} [{string.Join(",", t.Shape)}]) should be {t.ByteLength} bytes; its writer produced {stream.Position - start}.");
            }
        }
        catch
        {
            File.Delete(path);
            throw;
        }
    }

    // The header is padded with spaces to a multiple of 8 bytes so the data section starts aligned, as the reference writer does.
    private byte[] Header(List<PendingTensor> tensors)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            if (_metadata.Count > 0)
            {
                json.WriteStartObject(SafetensorsFile.MetadataKey);
                foreach (var (k, v) in _metadata) json.WriteString(k, v);
                json.WriteEndObject();
            }
            long offset = 0;
            foreach (var t in tensors)
            {
                json.WriteStartObject(t.Name);
                json.WriteString("dtype", t.Dtype.ToString());
                json.WriteStartArray("shape");
                foreach (var d in t.Shape) json.WriteNumberValue(d);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + t.ByteLength);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += t.ByteLength;
            }
            json.WriteEndObject();
        }
        while (buffer.Length % 8 != 0) buffer.WriteByte((byte)' ');
        return buffer.ToArray();
    }

    private static void WriteIndex(string path, long totalSize, SortedDictionary<string, string> weightMap)
    {
        using var stream = File.Create(path);
        using var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        json.WriteStartObject();
        json.WriteStartObject("metadata");
        json.WriteNumber("total_size", totalSize);
        json.WriteEndObject();
        json.WriteStartObject("weight_map");
        foreach (var (name, shard) in weightMap) json.WriteString(name, shard);
        json.WriteEndObject();
        json.WriteEndObject();
    }
}
