using System.Buffers.Binary;

namespace GlmSharp.Fuzz;

/// <summary>Structure-aware mutation of a safetensors file: its JSON header mutated as JSON, the length prefix kept right (mostly).</summary>
internal static class Safetensors
{
    public static byte[]? TryMutateHeader(byte[] file, Random random, Func<byte[], Random, byte[]> mutateJson)
    {
        if (file.Length < 8) return null;
        ulong length = BinaryPrimitives.ReadUInt64LittleEndian(file);
        if (length > (ulong)(file.Length - 8)) return null;
        var header = mutateJson(file[8..(8 + (int)length)], random);
        var result = new byte[8 + header.Length + file.Length - 8 - (int)length];
        BinaryPrimitives.WriteUInt64LittleEndian(result, random.Next(8) == 0 ? length : (ulong)header.Length);
        header.CopyTo(result, 8);
        file.AsSpan(8 + (int)length).CopyTo(result.AsSpan(8 + header.Length));
        return result;
    }

    /// <summary>Bytes of a seed that carry structure: a safetensors header, GGUF metadata and tensor infos.</summary>
    public static long StructuredBytes(string path)
    {
        if (path.EndsWith(".gguf", StringComparison.Ordinal))
        {
            using var gguf = Formats.Gguf.GgufFile.Open(path);
            return gguf.DataOffset;
        }
        if (path.EndsWith(".safetensors", StringComparison.Ordinal))
        {
            using var st = Formats.Safetensors.SafetensorsFile.Open(path);
            return st.DataOffset;
        }
        return new FileInfo(path).Length;
    }
}
