using System.Runtime.InteropServices;
using GlmSharp.Tensors;

namespace GlmSharp.Kernels.Bench;

/// <summary>
/// Random weights of one type and shape, quantized with GlmSharp's codecs (random blocks for a type it only reads), in as many copies as it takes to exceed the
/// last-level cache: successive calls take the next copy (<see cref="MatMulTimer"/>), so weights stream from memory as a model's layers do.
/// With <c>inCache</c> there is one copy, which stays in cache when small enough: the kernel's compute ceiling.
/// </summary>
internal sealed unsafe class BenchWeights : IDisposable
{
    private const long StreamBytes = 256L << 20;
    private readonly byte* _data;
    private readonly TensorView[] _copies;

    public long BytesPerCopy { get; }

    public BenchWeights(GgmlType type, int outputs, int inputs, bool inCache)
    {
        long rowBytes = GgmlTypeInfo.RowByteSize(type, inputs);
        BytesPerCopy = rowBytes * outputs;
        int copies = inCache ? 1 : (int)Math.Max(1, (StreamBytes + BytesPerCopy - 1) / BytesPerCopy);
        _data = (byte*)NativeMemory.AlignedAlloc((nuint)(BytesPerCopy * copies), 64);
        var random = new Random(1);
        var row = new float[inputs];
        for (int o = 0; o < outputs; o++)
        {
            var encoded = new Span<byte>(_data + o * rowBytes, (int)rowBytes);
            if (TensorCodec.CanQuantize(type))
            {
                for (int k = 0; k < inputs; k++) row[k] = (float)(random.NextDouble() * 2 - 1);
                TensorCodec.QuantizeRow(type, row, encoded);
            }
            else RandomIqBlocks(type, encoded, random);
        }
        _copies = new TensorView[copies];
        for (int c = 0; c < copies; c++)
        {
            if (c > 0) Buffer.MemoryCopy(_data, _data + c * BytesPerCopy, BytesPerCopy, BytesPerCopy);
            _copies[c] = new TensorView("bench.weight", type, [outputs, inputs], _data + c * BytesPerCopy, BytesPerCopy, "bench");
        }
    }

    /// <summary>
    /// Types GlmSharp only reads (the IQ types): random bytes, which are valid blocks of these types, with each block's fp16 d made finite (1, or for IQ1_M, whose d is spread over
    /// the top nibbles of its four scale words, an exponent field below all ones).
    /// </summary>
    private static void RandomIqBlocks(GgmlType type, Span<byte> row, Random random)
    {
        random.NextBytes(row);
        int blockBytes = GgmlTypeInfo.BytesPerBlock(type);
        for (int b = 0; b < row.Length; b += blockBytes)
        {
            if (type == GgmlType.IQ1_M) row[b + Iq1M.BytesPerBlock - 1] = (byte)(row[b + Iq1M.BytesPerBlock - 1] & 0x0f | 0x30);
            else BitConverter.TryWriteBytes(row[b..], (ushort)0x3C00);
        }
    }

    /// <summary>The first copy, for its shape.</summary>
    public TensorView First => _copies[0];

    /// <summary>The copies as <paramref name="backend"/> prepares them, or as stored.</summary>
    public TensorView[] For(Cpu.CpuBackend backend, bool stored) => stored ? _copies : _copies.Select(backend.PrepareMatrix).ToArray();

    public void Dispose() => NativeMemory.AlignedFree(_data);
}
