using GlmSharp.Tensors;

namespace GlmSharp.Formats.Gguf;

/// <summary>One entry of a GGUF tensor table.</summary>
/// <param name="Ne">Dimensions in ggml order, innermost (the row) first.</param>
/// <param name="Offset">Byte offset of the data from the start of the file's data section.</param>
public sealed record GgufTensorInfo(string Name, long[] Ne, GgmlType Type, long Offset, long ByteLength)
{
    /// <summary>Dimensions in PyTorch order, outermost first (the reverse of <see cref="Ne"/>).</summary>
    public long[] Shape { get; } = Ne.Reverse().ToArray();
}
