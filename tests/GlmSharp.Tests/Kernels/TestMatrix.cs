using System.Runtime.InteropServices;
using GlmSharp.Tensors;

namespace GlmSharp.Tests.Kernels;

/// <summary>
/// A random weight matrix encoded with our codecs into pinned memory, viewed as a <see cref="TensorView"/>; for a
/// type GlmSharp only reads, random blocks (<see cref="Support.RandomIqBlocks"/>) of the random values' spread.
/// </summary>
internal sealed unsafe class TestMatrix : IDisposable
{
    private readonly byte* _data;

    public TensorView View { get; }
    public float[] Decoded { get; }

    public TestMatrix(GgmlType type, int outputs, int inputs, int seed)
    {
        var random = new Random(seed);
        var values = new float[outputs * inputs];
        for (int i = 0; i < values.Length; i++) values[i] = (float)(random.NextDouble() * 2 - 1);
        long rowBytes = GgmlTypeInfo.RowByteSize(type, inputs);
        _data = (byte*)NativeMemory.Alloc((nuint)(rowBytes * outputs));
        Decoded = new float[values.Length];
        for (int o = 0; o < outputs; o++)
        {
            var row = new Span<byte>(_data + o * rowBytes, (int)rowBytes);
            if (TensorCodec.CanQuantize(type)) TensorCodec.QuantizeRow(type, values.AsSpan(o * inputs, inputs), row);
            else Support.RandomIqBlocks.Fill(type, row, random, rms: 0.5f);
            TensorCodec.DequantizeRow(type, row, Decoded.AsSpan(o * inputs, inputs));
        }
        View = new TensorView("test.weight", type, [outputs, inputs], _data, rowBytes * outputs, "test");
    }

    public static float[] RandomActivations(int count, int seed)
    {
        var random = new Random(seed);
        var x = new float[count];
        for (int i = 0; i < x.Length; i++) x[i] = (float)(random.NextDouble() * 4 - 2);
        return x;
    }

    public void Dispose() => NativeMemory.Free(_data);
}
