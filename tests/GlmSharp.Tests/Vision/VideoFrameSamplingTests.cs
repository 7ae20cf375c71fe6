using GlmSharp.Vision;

namespace GlmSharp.Tests.Vision;

/// <summary>
/// Frame choice as transformers' Glm4vVideoProcessor.sample_frames makes it (2 frames per second, at most 300 s), worked
/// out by hand from its definition: frame ⌈i · source fps / 2⌉ for i &lt; ⌊duration · 2⌋, capped at the last frame,
/// repeats dropped, the last frame doubled to make the count even.
/// </summary>
public sealed class VideoFrameSamplingTests
{
    [Theory]
    // 60 frames at 30 fps, 2 s: i · 15 for i < 4.
    [InlineData(60, 30.0, 2.0, "0,15,30,45")]
    // 5 frames at 2 fps, 2.5 s: every frame (i < 5), odd, the last doubled.
    [InlineData(5, 2.0, 2.5, "0,1,2,3,4,4")]
    // 10 frames at 10 fps, no duration: round(9 / 10) + 1 = 2 s → i · 5 for i < 4 = 0, 5, 10, 15 → capped at 9 → 0, 5, 9 → doubled.
    [InlineData(10, 10.0, null, "0,5,9,9")]
    // 48 frames at 24 fps, no duration: round(47 / 24) + 1 = 3 s → i · 12 for i < 6 → 0 … 48, 60 capped at 47, repeats dropped.
    [InlineData(48, 24.0, null, "0,12,24,36,47,47")]
    // 100 frames at 29.97 fps for 100 / 29.97 s: ⌊6.67⌋ = 6 frames, ⌈i · 14.985⌉.
    [InlineData(100, 29.97, 3.33667, "0,15,30,45,60,75")]
    // Unknown frame rate: transformers assumes 2 fps; 7 frames, round(6 / 2) + 1 = 4 s → i for i < 8, capped at 6.
    [InlineData(7, null, null, "0,1,2,3,4,5,6,6")]
    // 500 s at 1 fps, over the 300 s limit: 600 samples ≥ 500 frames, so every frame.
    [InlineData(500, 1.0, 500.0, "all")]
    public void Indices_Follow_Glm_Video_Processor(int frames, double? fps, double? duration, string expected)
    {
        int[] indices = VideoFrameSampling.Indices(frames, fps, duration, "clip");
        int[] want = expected == "all" ? [.. Enumerable.Range(0, frames)] : [.. expected.Split(',').Select(int.Parse)];
        Assert.Equal(want, indices);
    }

    [Fact]
    public void Long_Video_Takes_600_Frames_Spread_From_First_To_Last()
    {
        // 9100 frames at 30 fps (303.33 s): 600 evenly spaced times from 0 to the end, ⌈t · 30⌉ capped at 9099.
        int[] indices = VideoFrameSampling.Indices(9100, 30, 9100 / 30.0, "long");
        Assert.Equal(600, indices.Length);
        Assert.Equal(0, indices[0]);
        Assert.Equal(9099, indices[^1]);
        // Sample 1 is at 303.33 / 599 s = 0.5064 s → ⌈15.19⌉ = 16; sample 300 at 151.92 s → ⌈4557.6⌉ = 4558.
        Assert.Equal((16, 4558), (indices[1], indices[300]));
        Assert.True(indices.Zip(indices.Skip(1)).All(p => p.First < p.Second));
    }

    [Fact]
    public void Timestamps_Are_Every_Second_Frame_In_Whole_Seconds()
    {
        var frame = new RgbaImage(1, 1, [0, 0, 0, 255]);
        var video = new VideoFrames([frame, frame, frame, frame, frame, frame], [0, 15, 30, 45, 75, 89], 30, "clip");
        // Patches start at frames 0, 30 and 75: 0 s, 1 s and 2.5 s → 2.
        Assert.Equal([0, 1, 2], video.TemporalPatchTimestamps(2));
    }

    [Fact]
    public void Too_Short_A_Video_Is_Refused_Naming_It()
    {
        var e = Assert.Throws<ImageInputException>(() => VideoFrameSampling.Indices(3, 10, 0.3, "clip.gif"));
        Assert.Equal("clip.gif: the video lasts 0.3 s, too short for one frame at 2 frames per second", e.Message);
    }
}
