namespace GlmSharp.Vision;

/// <summary>
/// The frames of a video picked by <see cref="VideoFrameSampling"/>, decoded (one size), with the index each had in the
/// video and the video's frame rate: together they give the timestamps GLM's prompt writes after each temporal patch.
/// </summary>
public sealed class VideoFrames
{
    public VideoFrames(IReadOnlyList<RgbaImage> frames, IReadOnlyList<int> sourceIndices, double fps, string origin)
    {
        if (frames.Count == 0 || frames.Count != sourceIndices.Count)
            throw new ArgumentException($"{frames.Count} frames for {sourceIndices.Count} source indices");
        if (frames.Any(f => f.Width != frames[0].Width || f.Height != frames[0].Height))
            throw new ImageInputException($"{origin}: the video's frames change size; GlmSharp reads videos of one frame size");
        (Frames, SourceIndices, Fps, Origin) = (frames, sourceIndices, fps, origin);
    }

    public IReadOnlyList<RgbaImage> Frames { get; }
    public IReadOnlyList<int> SourceIndices { get; }
    public double Fps { get; }
    public string Origin { get; }

    /// <summary>
    /// Whole seconds into the video at the first frame of each temporal patch (<paramref name="temporalPatchSize"/>
    /// frames), as transformers' processor writes them: every second sampled frame's index / fps, truncated.
    /// </summary>
    public int[] TemporalPatchTimestamps(int temporalPatchSize) =>
        [.. Enumerable.Range(0, Frames.Count / temporalPatchSize).Select(p => (int)(SourceIndices[p * temporalPatchSize] / Fps))];
}
