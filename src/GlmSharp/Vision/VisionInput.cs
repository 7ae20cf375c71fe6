namespace GlmSharp.Vision;

/// <summary>
/// One image ready for the vision tower: <c>Patches</c> holds <c>GridT · GridH · GridW</c> rows of
/// channels × temporal × patch × patch floats, in merge-block order (each run of merge² rows is one merged token).
/// </summary>
public sealed record VisionInput(float[] Patches, int RowLength, int GridT, int GridH, int GridW, int MergeSize)
{
    public int PatchCount => GridT * GridH * GridW;

    /// <summary>Image tokens the text sees: one per merge × merge block of patches.</summary>
    public int MergedTokenCount => PatchCount / (MergeSize * MergeSize);

    public ReadOnlySpan<float> Row(int patch) => Patches.AsSpan(patch * RowLength, RowLength);
}
