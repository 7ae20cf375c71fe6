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

    /// <summary>
    /// The memory <see cref="Data"/> points into when the view owns it (a matrix a backend repacked at load), kept
    /// alive as long as the view; null for views of memory someone else owns.
    /// </summary>
    public IDisposable? Storage { get; init; }

    /// <summary>
    /// True when <see cref="Data"/> lies in a read-only mapping of a file, whose pages the OS can drop and read again: a
    /// backend that keeps its own copy of the tensor may let them go (<see cref="MappedFile.ReleasePages"/>).
    /// </summary>
    internal bool FileMapped { get; init; }

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
        ThrowIfRepacked();
        long matrixBytes = Shape[1] * GgmlTypeInfo.RowByteSize(Type, Shape[2]);
        return new TensorView($"{Name}[{index}]", Type, [Shape[1], Shape[2]], Data + index * matrixBytes, matrixBytes, Origin) { FileMapped = FileMapped };
    }

    /// <summary>
    /// Rows [<paramref name="first"/>, first + <paramref name="count"/>) of a matrix (elements of a vector) as a view of
    /// the same memory, under the same name. A row is whole blocks in every ggml type, so any row range of a matrix is
    /// contiguous bytes; a vector's range must start and end on block boundaries.
    /// </summary>
    public TensorView Rows(long first, long count)
    {
        if (Scales is not null)
            throw new Errors.UnsupportedModelException($"{Origin}: tensor '{Name}' has block scales, so its rows cannot be handed out separately");
        ThrowIfRepacked();
        if (Shape.Length is not (1 or 2) || first < 0 || count < 0 || first + count > Shape[0])
            throw new ArgumentOutOfRangeException(nameof(count), $"rows {first}..{first + count} of '{Name}' {ShapeText}");
        bool vector = Shape.Length == 1;
        int block = GgmlTypeInfo.BlockSize(Type);
        if (vector && (first % block != 0 || count % block != 0))
            throw new Errors.ModelFormatException(
                $"{Origin}: tensor '{Name}' is {Type}, stored in blocks of {block}; elements {first}..{first + count} do not start and end on a block");
        long Bytes(long rows) => vector ? GgmlTypeInfo.RowByteSize(Type, rows) : rows * GgmlTypeInfo.RowByteSize(Type, Shape[1]);
        return new TensorView(Name, Type, vector ? [count] : [count, Shape[1]], Data + Bytes(first), Bytes(count), Origin) { FileMapped = FileMapped };
    }

    private void ThrowIfRepacked()
    {
        if (GgmlTypeInfo.IsRepacked(Type))
            throw new InvalidOperationException($"{Origin}: tensor '{Name}' was repacked for the CPU kernels ({Type}, rows interleaved in eights), so it has no separate rows or matrices");
    }
}
