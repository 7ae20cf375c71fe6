namespace GlmSharp.Kernels;

/// <summary>
/// Keys and values of one layer for every cached position, laid out [position, kvHead, headDim] so that
/// appending a token writes one contiguous row.
/// </summary>
public sealed class LayerKvCache
{
    public int Capacity { get; }
    public int KvHeads { get; }
    public int HeadDim { get; }
    public int RowWidth => KvHeads * HeadDim;

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

    /// <summary>Stores rows of keys and values (each [rows, kvHeads·headDim]) starting at a position.</summary>
    public void Write(int firstPosition, ReadOnlySpan<float> keys, ReadOnlySpan<float> values)
    {
        keys.CopyTo(Keys.AsSpan(firstPosition * RowWidth));
        values.CopyTo(Values.AsSpan(firstPosition * RowWidth));
    }

    public ReadOnlySpan<float> KeyRow(int position) => Keys.AsSpan(position * RowWidth, RowWidth);
    public ReadOnlySpan<float> ValueRow(int position) => Values.AsSpan(position * RowWidth, RowWidth);
}
