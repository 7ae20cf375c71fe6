namespace GlmSharp.Vision;

/// <summary>
/// transformers' Glm4v get_rope_index for one sequence. Tokens are grouped into runs: text, image (image tokens
/// outside <c>begin_of_video … end_of_video</c>) and video (image tokens inside). Each run starts at
/// st = (largest position so far) + 1. A text run counts up on all three components; an image run with merged grid
/// (t, Hm, Wm) puts token (k, r, c) at (st + k, st + r, st + c); a video frame is one image-token run laid out the
/// same way with t = 0 and its video's Hm × Wm, the frames advancing to the next video after its T temporal patches.
/// The timestamp text and begin/end tokens between frames move the positions on like any text.
/// </summary>
public static class Glm4vRopeIndex
{
    public static MropePositionIds Compute(
        ReadOnlySpan<int> tokens, int imageTokenId, int videoStartTokenId, int videoEndTokenId,
        IReadOnlyList<GridThw> imageGrids, IReadOnlyList<GridThw> videoGrids, int mergeSize)
    {
        var layout = new MropeLayout(tokens.Length);
        int imageIndex = 0, videoIndex = 0, videoFrame = 0;
        bool insideVideo = false;
        int i = 0;
        while (i < tokens.Length)
        {
            if (tokens[i] != imageTokenId)
            {
                if (tokens[i] == videoStartTokenId) insideVideo = true;
                else if (tokens[i] == videoEndTokenId) insideVideo = false;
                layout.AddText(1);
                i++;
                continue;
            }
            int start = i;
            while (i < tokens.Length && tokens[i] == imageTokenId) i++;
            int run = i - start;
            if (!insideVideo)
            {
                if (imageIndex >= imageGrids.Count)
                    throw new ImageInputException($"prompt: image token run at {start} has no image grid (only {imageGrids.Count} given)");
                var grid = imageGrids[imageIndex++];
                layout.AddGrid(grid.T, grid.H / mergeSize, grid.W / mergeSize, run, $"image {imageIndex} at token {start}");
            }
            else
            {
                if (videoIndex >= videoGrids.Count)
                    throw new ImageInputException($"prompt: video frame run at {start} has no video grid (only {videoGrids.Count} given)");
                var grid = videoGrids[videoIndex];
                layout.AddGrid(1, grid.H / mergeSize, grid.W / mergeSize, run, $"video {videoIndex + 1} frame {videoFrame + 1} at token {start}");
                if (++videoFrame >= grid.T) (videoIndex, videoFrame) = (videoIndex + 1, 0);
            }
        }
        return layout.Build();
    }
}
