using System.Runtime.InteropServices;
using GlmSharp.Tensors;
using GlmSharp.Tests.Support;

namespace GlmSharp.Tests.Kernels;

/// <summary>
/// A random weight matrix encoded with our codecs into pinned memory (for a type without an encoder, random blocks:
/// <see cref="RandomIqBlocks"/>), viewed as a <see cref="TensorView"/>.
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
        // Types GlmSharp cannot write get random blocks of about the values' spread instead.
        var blocks = TensorCodec.CanQuantize(type) ? null : RandomIqBlocks.WithRms(type, (long)outputs * inputs, random, 1 / Math.Sqrt(3));
        for (int o = 0; o < outputs; o++)
        {
            var row = new Span<byte>(_data + o * rowBytes, (int)rowBytes);
            if (blocks is null) TensorCodec.QuantizeRow(type, values.AsSpan(o * inputs, inputs), row);
            else blocks.AsSpan((int)(o * rowBytes), (int)rowBytes).CopyTo(row);
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
