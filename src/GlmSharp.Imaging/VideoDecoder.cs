using GlmSharp.Vision;
using SkiaSharp;

namespace GlmSharp.Imaging;

/// <summary>
/// Reads a video's frames as GLM's video processor samples them (<see cref="VideoFrameSampling"/>). Animated GIF and
/// WebP are decoded by SkiaSharp's codec, frame by frame; every other container goes through the <c>ffmpeg</c> and
/// <c>ffprobe</c> programs (<see cref="FfmpegVideoReader"/>), which GlmSharp does not ship.
/// </summary>
public static class VideoDecoder
{
    /// <param name="ffmpegFolder">Where ffmpeg and ffprobe are; null to find them on PATH.</param>
    public static VideoFrames DecodeFile(string path, string? ffmpegFolder = null)
    {
        if (!File.Exists(path)) throw new ImageInputException($"{path}: video file not found");
        using var stream = File.OpenRead(path);
        if (stream.Length == 0) throw new ImageInputException($"{path}: the video file is empty");
        using var codec = SKCodec.Create(stream);
        return codec is null ? new FfmpegVideoReader(ffmpegFolder).Read(path) : AnimatedImage(codec, path);
    }

    /// <summary>
    /// An animated GIF or WebP: every frame composited onto the one it builds on (as the codec says), the frame rate taken
    /// from the frames' display times. A zero display time counts as 100 ms, as browsers show such frames.
    /// </summary>
    private static VideoFrames AnimatedImage(SKCodec codec, string path)
    {
        if (codec.FrameCount < 2)
            throw new ImageInputException($"{path}: a still image ({codec.EncodedFormat}), not a video; give it with --image");
        var frameInfo = codec.FrameInfo;
        double seconds = frameInfo.Sum(f => (f.Duration > 0 ? f.Duration : 100) / 1000.0);
        double fps = frameInfo.Length / seconds;
        int[] wanted = VideoFrameSampling.Indices(frameInfo.Length, fps, seconds, path);

        var info = new SKImageInfo(codec.Info.Width, codec.Info.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var composited = new byte[frameInfo.Length][];
        int lastWanted = wanted.Max();
        for (int i = 0; i <= lastWanted; i++)
        {
            var pixels = new byte[checked(info.Width * info.Height * 4)];
            int required = frameInfo[i].RequiredFrame;
            if (required >= 0) Array.Copy(composited[required]!, pixels, pixels.Length);
            SKCodecResult result;
            unsafe
            {
                fixed (byte* p = pixels) result = codec.GetPixels(info, (IntPtr)p, new SKCodecOptions(i, required));
            }
            if (result is not (SKCodecResult.Success or SKCodecResult.IncompleteInput))
                throw new ImageInputException($"{path}: frame {i} cannot be decoded ({codec.EncodedFormat}: {result})");
            composited[i] = pixels;
        }
        return new VideoFrames([.. wanted.Select(i => new RgbaImage(info.Width, info.Height, composited[i]))], wanted, fps, path);
    }
}
