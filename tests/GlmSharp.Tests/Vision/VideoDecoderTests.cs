using GlmSharp.Imaging;
using GlmSharp.Tests.Support;
using GlmSharp.Vision;

namespace GlmSharp.Tests.Vision;

/// <summary>
/// Video files to sampled frames: animated GIFs written in the test (decoded by Skia), other containers through an
/// ffmpeg stand-in (two shell scripts answering as ffprobe and ffmpeg do), so no test needs ffmpeg installed; and the
/// one-line refusals.
/// </summary>
public sealed class VideoDecoderTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>A frame of palette indices whose colours vary across the frame and from frame to frame.</summary>
    internal static byte[] Indices(int width, int height, int frame) =>
        [.. Enumerable.Range(0, width * height).Select(p => (byte)((p % width * 7 + p / width * 13 + frame * 29) % 216))];

    internal static RgbaImage Expected(int width, int height, byte[] indices)
    {
        var rgba = new byte[width * height * 4];
        for (int p = 0; p < indices.Length; p++)
        {
            var (r, g, b) = TestGif.Colour(indices[p]);
            (rgba[4 * p], rgba[4 * p + 1], rgba[4 * p + 2], rgba[4 * p + 3]) = (r, g, b, 255);
        }
        return new RgbaImage(width, height, rgba);
    }

    [Fact]
    public void Gif_Frames_Are_Sampled_At_Two_Per_Second_And_Decoded_Exactly()
    {
        // Six frames of 250 ms: 4 fps over 1.5 s → frames ⌈i · 4 / 2⌉ for i < 3 = 0, 2, 4, and 4 again to make pairs.
        var frames = Enumerable.Range(0, 6).Select(f => Indices(20, 12, f)).ToArray();
        string path = _dir.File("clip.gif");
        File.WriteAllBytes(path, TestGif.Write(20, 12, frames, delayCentiseconds: 25));

        var video = VideoDecoder.DecodeFile(path);
        Assert.Equal([0, 2, 4, 4], video.SourceIndices);
        Assert.Equal(4.0, video.Fps, 9);
        for (int i = 0; i < 4; i++) Assert.Equal(Expected(20, 12, frames[video.SourceIndices[i]]).Pixels, video.Frames[i].Pixels);
        Assert.Equal([0, 1], video.TemporalPatchTimestamps(2));
    }

    [Fact]
    public void Other_Containers_Go_Through_Ffprobe_And_Ffmpeg()
    {
        // 6 frames of 8 × 8 at 4 fps, 1.5 s: the same choice as the GIF above.
        const int width = 8, height = 8, count = 6;
        var raw = new byte[count * width * height * 4];
        new Random(3).NextBytes(raw);
        File.WriteAllBytes(_dir.File("frames.rgba"), raw);
        string tools = FakeFfmpeg($"width={width}\nheight={height}\navg_frame_rate=4/1\nnb_read_packets={count}\nduration=1.500000", _dir.File("frames.rgba"));
        string clip = _dir.File("clip.mp4");
        File.WriteAllBytes(clip, [0, 0, 0, 0x18, (byte)'f', (byte)'t', (byte)'y', (byte)'p']);

        var video = VideoDecoder.DecodeFile(clip, tools);
        Assert.Equal([0, 2, 4, 4], video.SourceIndices);
        Assert.Equal(4.0, video.Fps, 9);
        int frameBytes = width * height * 4;
        for (int i = 0; i < 4; i++) Assert.Equal(raw.AsSpan(video.SourceIndices[i] * frameBytes, frameBytes).ToArray(), video.Frames[i].Pixels);
    }

    [Fact]
    public void Missing_Ffmpeg_Is_A_One_Line_Error_Naming_It()
    {
        string clip = _dir.File("clip.mp4");
        File.WriteAllBytes(clip, [0, 0, 0, 0x18, (byte)'f', (byte)'t', (byte)'y', (byte)'p']);
        string empty = _dir.File("no-tools");
        Directory.CreateDirectory(empty);
        var e = Assert.Throws<ImageInputException>(() => VideoDecoder.DecodeFile(clip, empty));
        Assert.Equal($"{clip}: reading this video needs ffprobe, not found in {empty}; install ffmpeg (Debian: apt-get install ffmpeg) or give the video as an animated GIF or WebP", e.Message);
    }

    [Fact]
    public void Ffprobe_Failure_Is_Named()
    {
        string tools = FakeFfmpeg(probeOutput: null, rawFile: _dir.File("none"));
        string clip = _dir.File("broken.mkv");
        File.WriteAllBytes(clip, [1, 2, 3]);
        var e = Assert.Throws<ImageInputException>(() => VideoDecoder.DecodeFile(clip, tools));
        Assert.Equal($"{clip}: ffprobe cannot read the video (Invalid data found when processing input)", e.Message);
    }

    [Fact]
    public void A_Still_Image_Is_Not_A_Video()
    {
        string path = _dir.File("still.gif");
        File.WriteAllBytes(path, TestGif.Write(8, 8, [Indices(8, 8, 0)], delayCentiseconds: 10));
        var e = Assert.Throws<ImageInputException>(() => VideoDecoder.DecodeFile(path));
        Assert.Equal($"{path}: a still image (Gif), not a video; give it with --image", e.Message);
    }

    [Fact]
    public void Missing_Video_Is_Named() =>
        Assert.Equal($"{_dir.File("none.mp4")}: video file not found", Assert.Throws<ImageInputException>(() => VideoDecoder.DecodeFile(_dir.File("none.mp4"))).Message);

    /// <summary>
    /// A folder with an ffprobe that prints <paramref name="probeOutput"/> (or fails as ffprobe does on a bad file, when
    /// null) and an ffmpeg that writes <paramref name="rawFile"/> to its output, as `-f rawvideo -pix_fmt rgba` would.
    /// </summary>
    private string FakeFfmpeg(string? probeOutput, string rawFile)
    {
        string folder = _dir.File("tools");
        Directory.CreateDirectory(folder);
        string probe = probeOutput is null
            ? "echo 'Invalid data found when processing input' >&2\nexit 1"
            : $"printf '%s\\n' '{probeOutput.Replace("\n", "' '")}'";
        Script(Path.Combine(folder, "ffprobe"), probe);
        Script(Path.Combine(folder, "ffmpeg"), $"cat '{rawFile}'");
        return folder;

        static void Script(string path, string body)
        {
            File.WriteAllText(path, "#!/bin/sh\n" + body + "\n");
            if (OperatingSystem.IsWindows()) throw new PlatformNotSupportedException("the ffmpeg stand-in is a shell script");
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }
}
