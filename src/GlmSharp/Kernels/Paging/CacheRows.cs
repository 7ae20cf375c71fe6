namespace GlmSharp.Kernels.Paging;

/// <summary>
/// Where the rows of one step live in the paged cache: row r is stored at slot <c>Slots[r]</c> of the sequence whose
/// block ids begin at <c>BlockIds[TableStarts[r]]</c>, and attends causally to slots [0, Slots[r]] of that sequence.
/// Rows of different sequences mix freely in one step; each reads only its own blocks.
/// </summary>
public readonly ref struct CacheRows(ReadOnlySpan<int> slots, ReadOnlySpan<int> tableStarts, ReadOnlySpan<int> blockIds)
{
    public ReadOnlySpan<int> Slots { get; } = slots;
    public ReadOnlySpan<int> TableStarts { get; } = tableStarts;
    public ReadOnlySpan<int> BlockIds { get; } = blockIds;
    public int Count => Slots.Length;

    /// <summary>The slot after the last one any row attends to.</summary>
    public int LongestVisible()
    {
        int longest = 0;
        foreach (int slot in Slots) longest = Math.Max(longest, slot + 1);
        return longest;
    }
}
