namespace GlmSharp.Kernels;

/// <summary>
/// The cached positions each row of a step attends to under DeepSeek sparse attention: row r's <see cref="TopK"/> slots
/// of its own sequence, ascending, at [r · TopK, (r + 1) · TopK) of <see cref="Slots"/>. A row that sees no more than
/// TopK positions keeps them all and has no entry there, so over a context no longer than TopK sparse attention is
/// exactly dense attention.
/// </summary>
public readonly record struct KeySelection(DeviceSpan<int> Slots, int TopK)
{
    /// <summary>Whether a row that sees <paramref name="visible"/> positions attends to a selection of them.</summary>
    public bool IsSparse(int visible) => visible > TopK;
}
