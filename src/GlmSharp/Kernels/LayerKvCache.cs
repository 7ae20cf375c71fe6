namespace GlmSharp.Kernels;

/// <summary>
/// Keys and values of one layer for every cached position, laid out [kvHead, position, headDim]: attention for
/// one head then scans one contiguous block instead of picking a slice out of every position's row.
/// </summary>
public sealed class LayerKvCache
{
    public int Capacity { get; }
    public int KvHeads { get; }
    public int HeadDim { get; }
    public int RowWidth => KvHeads * HeadDim;

    /// <summary>Floats between the first position of one kv head and the next.</summary>
    internal long HeadStride => (long)Capacity * HeadDim;

    internal float[] Keys { get; }
    internal float[] Values { get; }

    public LayerKvCache(int capacity, int kvHeads, int headDim)
    {
        Capacity = capacity;
        KvHeads = kvHeads;
        HeadDim = headDim;
        Keys = new float[(long)capacity * RowWidth];
        Values = new float[(long)capacity * RowWidth];
    }

    /// <summary>Stores rows of keys and values (each [rows, kvHeads·headDim], as projected) starting at a position.</summary>
    public void Write(int firstPosition, ReadOnlySpan<float> keys, ReadOnlySpan<float> values)
    {
        int rows = keys.Length / RowWidth;
        if (firstPosition + rows > Capacity)
            throw new Errors.ContextLimitException($"{rows} positions after {firstPosition} exceed the KV cache capacity of {Capacity}");
        for (int r = 0; r < rows; r++)
            for (int h = 0; h < KvHeads; h++)
            {
                long at = h * HeadStride + (long)(firstPosition + r) * HeadDim;
                keys.Slice(r * RowWidth + h * HeadDim, HeadDim).CopyTo(Keys.AsSpan(checked((int)at), HeadDim));
                values.Slice(r * RowWidth + h * HeadDim, HeadDim).CopyTo(Values.AsSpan(checked((int)at), HeadDim));
            }
    }

    public ReadOnlySpan<float> Key(int position, int kvHead) => Keys.AsSpan(checked((int)(kvHead * HeadStride + (long)position * HeadDim)), HeadDim);
    public ReadOnlySpan<float> Value(int position, int kvHead) => Values.AsSpan(checked((int)(kvHead * HeadStride + (long)position * HeadDim)), HeadDim);
}
