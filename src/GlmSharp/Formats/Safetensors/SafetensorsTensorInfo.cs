namespace GlmSharp.Formats.Safetensors;

/// <summary>One header entry. <see cref="Begin"/> and <see cref="End"/> are byte offsets from the start of the data section.</summary>
public sealed record SafetensorsTensorInfo(string Name, SafetensorsDtype Dtype, long[] Shape, long Begin, long End)
{
    public long ByteLength => End - Begin;
}
