using SkiaSharp;

namespace GlmSharp.Tests.Vision;

/// <summary>Small image files written with SkiaSharp for decoder and pre-processing tests.</summary>
internal static class TestImages
{
    /// <summary>Encodes straight-alpha RGBA pixels (width × height × 4 bytes) and returns the encoded file's bytes.</summary>
    public static byte[] Encode(int width, int height, byte[] rgba, SKEncodedImageFormat format, int quality = 100)
    {
        var info = new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        using var bitmap = new SKBitmap(info);
        System.Runtime.InteropServices.Marshal.Copy(rgba, 0, bitmap.GetPixels(), rgba.Length);
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(format, quality);
        return data.ToArray();
    }

    public static byte[] Rgba(int width, int height, Func<int, int, int, byte> value)
    {
        var rgba = new byte[width * height * 4];
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
                for (int c = 0; c < 4; c++) rgba[(y * width + x) * 4 + c] = value(x, y, c);
        return rgba;
    }

    public static string WriteTemp(byte[] bytes, string extension)
    {
        string path = Path.Combine(Path.GetTempPath(), $"glmsharp-vision-{Guid.NewGuid():N}{extension}");
        File.WriteAllBytes(path, bytes);
        return path;
    }
}
