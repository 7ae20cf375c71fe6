namespace GlmSharp.Vision.Blocks;

/// <summary>
/// The (row, column) of each patch in the order the pre-processor emits them: merge blocks row-major, and inside
/// each block its merge × merge patches row-major. Both the 2-D RoPE and the position-table lookup index patches so.
/// </summary>
public static class VisionPatchPositions
{
    public static (int Row, int Col)[] InMergeOrder(int gridH, int gridW, int mergeSize)
    {
        if (gridH % mergeSize != 0 || gridW % mergeSize != 0)
            throw new ArgumentException($"patch grid {gridH}×{gridW} is not a multiple of the merge size {mergeSize}");
        var positions = new (int, int)[gridH * gridW];
        int i = 0;
        for (int blockRow = 0; blockRow < gridH / mergeSize; blockRow++)
            for (int blockCol = 0; blockCol < gridW / mergeSize; blockCol++)
                for (int inRow = 0; inRow < mergeSize; inRow++)
                    for (int inCol = 0; inCol < mergeSize; inCol++)
                        positions[i++] = (blockRow * mergeSize + inRow, blockCol * mergeSize + inCol);
        return positions;
    }
}
