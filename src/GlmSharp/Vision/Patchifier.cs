using GlmSharp.Vision.Blocks;

namespace GlmSharp.Vision;

/// <summary>
/// Cuts a resized image into the vision tower's patch rows (transformers' Glm4vImageProcessor layout): patches in
/// merge-block order (block row, block column, row in block, column in block); each row channel-major, then the
/// temporal patch (a still image repeated temporal_patch_size times, or that many consecutive video frames), then
/// patch × patch pixels row-major.
/// </summary>
public static class Patchifier
{
    public static VisionInput Patchify(RgbImage image, float[] normalization, int patchSize, int mergeSize, int temporalPatchSize) =>
        Patchify([.. Enumerable.Repeat(image, temporalPatchSize)], normalization, patchSize, mergeSize);

    /// <summary>One temporal patch of a video: <paramref name="frames"/> (temporal_patch_size of them, one size) in order.</summary>
    public static VisionInput Patchify(IReadOnlyList<RgbImage> frames, float[] normalization, int patchSize, int mergeSize)
    {
        var image = frames[0];
        int factor = patchSize * mergeSize, temporalPatchSize = frames.Count;
        if (image.Width % factor != 0 || image.Height % factor != 0)
            throw new ArgumentException($"image {image.Width}x{image.Height} is not a multiple of patch × merge = {factor}");
        if (frames.Any(f => f.Width != image.Width || f.Height != image.Height))
            throw new ArgumentException($"the frames of one temporal patch differ in size ({string.Join(", ", frames.Select(f => $"{f.Width}x{f.Height}"))})");
        int gridH = image.Height / patchSize, gridW = image.Width / patchSize;
        int pixelsPerPatch = patchSize * patchSize;
        int rowLength = 3 * temporalPatchSize * pixelsPerPatch;
        var patches = new float[(long)gridH * gridW * rowLength];
        var positions = VisionPatchPositions.InMergeOrder(gridH, gridW, mergeSize);
        for (int row = 0; row < positions.Length; row++)
        {
            int top = positions[row].Row * patchSize, left = positions[row].Col * patchSize;
            var dst = patches.AsSpan(row * rowLength, rowLength);
            for (int c = 0; c < 3; c++)
                for (int t = 0; t < temporalPatchSize; t++)
                {
                    var slice = dst.Slice((c * temporalPatchSize + t) * pixelsPerPatch, pixelsPerPatch);
                    for (int py = 0; py < patchSize; py++)
                        for (int px = 0; px < patchSize; px++)
                            slice[py * patchSize + px] = normalization[c * 256 + frames[t][left + px, top + py, c]];
                }
        }
        return new VisionInput(patches, rowLength, 1, gridH, gridW, mergeSize);
    }
}
