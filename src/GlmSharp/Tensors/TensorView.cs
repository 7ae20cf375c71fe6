namespace GlmSharp.Tensors;

/// <summary>
/// A read-only tensor living in memory someone else owns (a memory-mapped file, or a test buffer).
/// <see cref="Shape"/> is in PyTorch order, outermost first: a Linear weight is [out, in]
/// (GGUF lists the same tensor as ne = {in, out}).
/// </summary>
public sealed unsafe class TensorView(string name, GgmlType type, long[] shape, byte* data, long byteLength, string origin)
{
    public string Name { get; } = name;
    public GgmlType Type { get; } = type;
    public long[] Shape { get; } = shape;
    public byte* Data { get; } = data;
    public long ByteLength { get; } = byteLength;

    /// <summary>The file (or other source) the tensor came from, for error messages.</summary>
    public string Origin { get; } = origin;

    public long ElementCount
    {
        get
        {
            long n = 1;
            foreach (var d in Shape) n *= d;
            return n;
        }
    }

    /// <summary>Block scales the stored values are multiplied by (FP8 checkpoints' <c>weight_scale_inv</c>), or null.</summary>
    public BlockScales? Scales { get; init; }

    public string ShapeText => "[" + string.Join(",", Shape) + "]";
}
