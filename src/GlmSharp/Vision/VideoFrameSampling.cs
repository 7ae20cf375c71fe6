namespace GlmSharp.Vision;

/// <summary>
/// Which frames of a video GLM's video processor feeds the tower (transformers' Glm4vVideoProcessor.sample_frames).
/// Up to <see cref="MaxDurationSeconds"/>, one frame every 1 / fps seconds: frame ⌈i · source fps / fps⌉ for
/// i &lt; ⌊duration · fps⌋; a longer video gets duration-limit × fps frames spread evenly over its whole length (or every
/// frame, if it has fewer). Repeats are dropped, and the last frame is doubled when the count is odd, because the tower
/// takes frames in temporal patches of two.
/// </summary>
public static class VideoFrameSampling
{
    public const double DefaultFps = 2;
    public const double MaxDurationSeconds = 300;

    /// <param name="totalFrames">Frames in the video.</param>
    /// <param name="sourceFps">The video's frame rate, or null if unknown (then 2, as transformers assumes).</param>
    /// <param name="durationSeconds">The video's length, or null to take (last frame / source fps, rounded) + 1 as transformers does.</param>
    /// <param name="origin">Names the video in errors.</param>
    public static int[] Indices(int totalFrames, double? sourceFps, double? durationSeconds, string origin, double fps = DefaultFps)
    {
        if (totalFrames < 1) throw new ImageInputException($"{origin}: the video has no frames");
        double rate = sourceFps is > 0 ? sourceFps.Value : 2.0;
        int last = totalFrames - 1;
        double duration = durationSeconds is > 0 ? durationSeconds.Value : Math.Round(last / rate, MidpointRounding.ToEven) + 1;

        var picked = new List<int>();
        if (duration <= MaxDurationSeconds)
        {
            int count = (int)Math.Floor(duration * fps);
            for (int i = 0; i < count; i++) picked.Add(Math.Min(last, (int)Math.Ceiling(i * rate / fps)));
        }
        else
        {
            int count = (int)(MaxDurationSeconds * fps);
            if (count >= totalFrames) picked.AddRange(Enumerable.Range(0, totalFrames));
            // numpy's linspace(0, duration, count): i · step, the last point exactly at the end.
            else for (int i = 0; i < count; i++)
                {
                    double seconds = i == count - 1 ? duration : i * (duration / (count - 1));
                    picked.Add(Math.Min(last, (int)Math.Ceiling(seconds * rate)));
                }
        }
        if (picked.Count == 0)
            throw new ImageInputException($"{origin}: the video lasts {duration:0.###} s, too short for one frame at {fps:G} frames per second");

        var seen = new HashSet<int>();
        var unique = picked.Where(seen.Add).ToList();
        if (unique.Count % 2 == 1) unique.Add(unique[^1]);
        return [.. unique];
    }
}
