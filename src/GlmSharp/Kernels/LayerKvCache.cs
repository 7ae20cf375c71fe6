using GlmSharp.Errors;
using GlmSharp.Tensors;

namespace GlmSharp.Kernels;

/// <summary>
/// Keys and values of one layer for every cached position, in native memory laid out [kvHead, position, headDim]:
/// attention for one kv head then scans one contiguous block instead of picking a slice out of every position's row.
/// Each head row is stored as <see cref="ElementType"/>; a Q8_0 row is headDim / 32 blocks.
/// </summary>
public sealed unsafe class LayerKvCache : IDisposable
{
    private readonly AlignedNativeMemory _keys;
    private readonly AlignedNativeMemory _values;

    public int Capacity { get; }
    public int KvHeads { get; }
    public int HeadDim { get; }
    public KvCacheType ElementType { get; }
    public int RowWidth => KvHeads * HeadDim;

    /// <summary>Bytes of one head row of one position.</summary>
    public int RowBytes { get; }

    /// <summary>Bytes that keys and values together take per cached position.</summary>
    public long BytesPerPosition => 2L * KvHeads * RowBytes;

    /// <summary>Bytes between the first position of one kv head and the next.</summary>
    internal long HeadStride => (long)Capacity * RowBytes;

    internal byte* Keys => _keys.Pointer;
    internal byte* Values => _values.Pointer;

    public LayerKvCache(int capacity, int kvHeads, int headDim, KvCacheType elementType = KvCacheType.F16)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(kvHeads, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(headDim, 1);
        if (elementType == KvCacheType.Q8_0 && headDim % Q8_0.BlockSize != 0)
            throw new UnsupportedModelException(
                $"a q8_0 KV cache stores each head row as {Q8_0.BlockSize}-value blocks, so the head size must be a multiple of {Q8_0.BlockSize}; " +
                $"this model's head size is {headDim} (use --cache-type f16)");
        Capacity = capacity;
        KvHeads = kvHeads;
        HeadDim = headDim;
        ElementType = elementType;
        RowBytes = elementType.RowBytes(headDim);
        _keys = new AlignedNativeMemory(kvHeads * HeadStride);
        _values = new AlignedNativeMemory(kvHeads * HeadStride);
    }

    /// <summary>Stores rows of keys and values (each [rows, kvHeads·headDim], as projected) starting at a position.</summary>
    public void Write(int firstPosition, ReadOnlySpan<float> keys, ReadOnlySpan<float> values)
    {
        ThrowIfDisposed();
        int rows = keys.Length / RowWidth;
        if (keys.Length != values.Length || keys.Length != rows * RowWidth)
            throw new ArgumentException($"keys ({keys.Length}) and values ({values.Length}) must both be whole rows of {RowWidth}");
        if (firstPosition < 0 || firstPosition + rows > Capacity)
            throw new ContextLimitException($"{rows} positions after {firstPosition} exceed the KV cache capacity of {Capacity}");
        for (int r = 0; r < rows; r++)
            for (int h = 0; h < KvHeads; h++)
            {
                long at = h * HeadStride + (long)(firstPosition + r) * RowBytes;
                Store(keys.Slice(r * RowWidth + h * HeadDim, HeadDim), new Span<byte>(Keys + at, RowBytes));
                Store(values.Slice(r * RowWidth + h * HeadDim, HeadDim), new Span<byte>(Values + at, RowBytes));
            }
    }

    /// <summary>Rounds as llama.cpp does when it fills a cache of the same type: fp16 to nearest even, Q8_0 as ggml-cpu quantizes.</summary>
    private void Store(ReadOnlySpan<float> row, Span<byte> destination)
    {
        switch (ElementType)
        {
            case KvCacheType.F32: System.Runtime.InteropServices.MemoryMarshal.AsBytes(row).CopyTo(destination); break;
            case KvCacheType.F16: Fp16.Encode(row, destination); break;
            default: Q8_0.QuantizeAsGgmlCpu(row, destination); break;
        }
    }

    internal void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_keys.IsClosed, this);

    public void Dispose()
    {
        _keys.Dispose();
        _values.Dispose();
    }
}
