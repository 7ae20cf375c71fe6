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

    /// <summary>
    /// Matrix <paramref name="index"/> of a stack [n, rows, columns] (merged expert weights), as a [rows, columns]
    /// view of the same memory: each matrix is whole rows, so whole blocks of any block type.
    /// </summary>
    public TensorView Slice(long index)
    {
        if (Shape.Length != 3) throw new InvalidOperationException($"{Name}: only a 3-D tensor has matrices to slice, this one is {ShapeText}");
        if (index < 0 || index >= Shape[0]) throw new ArgumentOutOfRangeException(nameof(index), index, $"{Name} holds {Shape[0]} matrices");
        if (Scales is not null) throw new Errors.UnsupportedModelException($"{Origin}: tensor '{Name}' is a block-scaled stack, which GlmSharp cannot slice yet");
        long matrixBytes = Shape[1] * GgmlTypeInfo.RowByteSize(Type, Shape[2]);
        return new TensorView($"{Name}[{index}]", Type, [Shape[1], Shape[2]], Data + index * matrixBytes, matrixBytes, Origin);
    }
}
