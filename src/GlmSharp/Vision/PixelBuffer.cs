namespace GlmSharp.Vision;

internal static class PixelBuffer
{
    /// <summary>Refuses an empty size or a buffer that does not hold exactly width × height × channels bytes.</summary>
    public static void Check(int width, int height, int channels, byte[] pixels, string layout)
    {
        if (width < 1 || height < 1) throw new ArgumentOutOfRangeException(nameof(width), $"image size {width}x{height} is empty");
        if (pixels.Length != checked(width * height * channels))
            throw new ArgumentException($"{width}x{height} {layout} needs {width * height * channels} bytes, got {pixels.Length}", nameof(pixels));
    }
}
