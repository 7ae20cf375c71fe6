using System.Buffers.Binary;
using System.Text;
using GlmSharp.Errors;

namespace GlmSharp.Formats.Gguf;

/// <summary>Reads little-endian GGUF fields from mapped memory, refusing to step past the end of the file.</summary>
internal unsafe struct GgufCursor(byte* start, long length, string origin)
{
    public long Position { get; private set; }
    public readonly long Remaining => length - Position;

    public ReadOnlySpan<byte> Take(long count, string what)
    {
        if (count < 0 || count > Remaining)
            throw new ModelFormatException($"{origin}: file is truncated while reading {what} at byte {Position} (needs {count} bytes, {Remaining} left).");
        var span = new ReadOnlySpan<byte>(start + Position, checked((int)count));
        Position += count;
        return span;
    }

    public byte ReadByte(string what) => Take(1, what)[0];
    public ushort ReadUInt16(string what) => BinaryPrimitives.ReadUInt16LittleEndian(Take(2, what));
    public uint ReadUInt32(string what) => BinaryPrimitives.ReadUInt32LittleEndian(Take(4, what));
    public ulong ReadUInt64(string what) => BinaryPrimitives.ReadUInt64LittleEndian(Take(8, what));
    public long ReadInt64(string what) => BinaryPrimitives.ReadInt64LittleEndian(Take(8, what));
    public float ReadSingle(string what) => BinaryPrimitives.ReadSingleLittleEndian(Take(4, what));
    public double ReadDouble(string what) => BinaryPrimitives.ReadDoubleLittleEndian(Take(8, what));

    public string ReadString(string what)
    {
        ulong len = ReadUInt64(what + " (length)");
        if (len > (ulong)Remaining)
            throw new ModelFormatException($"{origin}: {what} claims {len} bytes but only {Remaining} remain in the file.");
        try
        {
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(Take((long)len, what));
        }
        catch (DecoderFallbackException e)
        {
            throw new ModelFormatException($"{origin}: {what} is not valid UTF-8.", e);
        }
    }

    /// <summary>Reads an element count and checks the file could hold that many elements of at least
    /// <paramref name="minimumElementSize"/> bytes, so corrupt counts fail before any allocation.</summary>
    public long ReadCount(string what, int minimumElementSize)
    {
        ulong count = ReadUInt64(what);
        if (count > (ulong)(Remaining / minimumElementSize))
            throw new ModelFormatException($"{origin}: {what} is {count}, more than the {Remaining} bytes left in the file can hold.");
        return (long)count;
    }

    public void AlignTo(long alignment) => Position = (Position + alignment - 1) / alignment * alignment;
}
