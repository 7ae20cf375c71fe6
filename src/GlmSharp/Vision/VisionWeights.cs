using GlmSharp.Errors;
using GlmSharp.Formats;
using GlmSharp.Kernels;
using GlmSharp.Tensors;

namespace GlmSharp.Vision;

/// <summary>
/// The vision tower's weights that are not plain [out, in] matrices (the patch and downsample convolutions, the
/// position table): read whole as fp32 with their shape checked, and handed back as fp32 matrices the backend multiplies.
/// </summary>
internal static unsafe class VisionWeights
{
    /// <summary>The tensor's values as fp32, after checking it has exactly <paramref name="shape"/> (PyTorch order).</summary>
    public static float[] Floats(ITensorSource source, string name, long[] shape) =>
        source.TryGet(name, out var tensor) ? Floats(tensor, shape)
            : throw new ModelFormatException($"{source.Origin}: tensor '{name}' is missing");

    public static float[] Floats(TensorView tensor, long[] shape)
    {
        if (!tensor.Shape.AsSpan().SequenceEqual(shape))
            throw new ModelFormatException($"{tensor.Origin}: tensor '{tensor.Name}' has shape {tensor.ShapeText}, expected [{string.Join(",", shape)}]");
        var values = new float[tensor.ElementCount];
        var flat = new TensorView(tensor.Name, tensor.Type, [1, values.Length], tensor.Data, tensor.ByteLength, tensor.Origin);
        TensorRows.Decode(flat, 0, values);
        return values;
    }

    /// <summary>An fp32 [rows, columns] matrix owning a copy of <paramref name="values"/>, as the backend prepares it.</summary>
    public static TensorView Matrix(IComputeBackend backend, string name, float[] values, long rows, long columns, string origin)
    {
        if (values.Length != rows * columns) throw new ArgumentException($"{name}: {values.Length} values do not make a [{rows},{columns}] matrix");
        var memory = new AlignedNativeMemory((long)values.Length * sizeof(float));
        values.CopyTo(new Span<float>(memory.Pointer, values.Length));
        return backend.PrepareMatrix(new TensorView(name, GgmlType.F32, [rows, columns], memory.Pointer, memory.Length, origin) { Storage = memory });
    }
}
