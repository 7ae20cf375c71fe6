using GlmSharp.Imaging;
using GlmSharp.Vision;
using SkiaSharp;

namespace GlmSharp.Tests.Vision;

public sealed class ImageDecoderTests
{
    [Fact]
    public void Png_Decodes_To_The_Pixels_It_Was_Written_With()
    {
        var rgba = TestImages.Rgba(5, 3, (x, y, c) => c == 3 ? (byte)255 : (byte)(x * 40 + y * 7 + c));
        string path = TestImages.WriteTemp(TestImages.Encode(5, 3, rgba, SKEncodedImageFormat.Png), ".png");
        try
        {
            var image = ImageDecoder.DecodeFile(path);
            Assert.Equal((5, 3), (image.Width, image.Height));
            Assert.Equal(rgba, image.Pixels);
        }
        finally { File.Delete(path); }
    }

    [Theory]
    [InlineData(SKEncodedImageFormat.Jpeg)]
    [InlineData(SKEncodedImageFormat.Webp)]
    public void Jpeg_And_WebP_Decode_With_Their_Size(SKEncodedImageFormat format)
    {
        var rgba = TestImages.Rgba(30, 20, (x, y, c) => c == 3 ? (byte)255 : (byte)128);
        var image = ImageDecoder.Decode(TestImages.Encode(30, 20, rgba, format), "in-memory");
        Assert.Equal((30, 20), (image.Width, image.Height));
        // A flat grey survives lossy coding within a couple of levels.
        Assert.All(image.Pixels.Where((_, i) => i % 4 != 3), v => Assert.InRange(v, 126, 130));
    }

    [Fact]
    public void Alpha_Is_Composited_Over_White_For_HuggingFace_And_Dropped_For_LlamaCpp()
    {
        // One pixel (R, G, B, A) = (200, 100, 0, 51): over white, v·51/255 + 255·204/255 = v/5 + 204.
        var image = new RgbaImage(1, 1, [200, 100, 0, 51]);
        Assert.Equal(new byte[] { 244, 224, 204 }, image.OverWhite().Pixels);
        Assert.Equal(new byte[] { 200, 100, 0 }, image.DropAlpha().Pixels);
    }

    [Fact]
    public void Missing_File_Is_Named()
    {
        var e = Assert.Throws<ImageInputException>(() => ImageDecoder.DecodeFile("/nonexistent/cat.png"));
        Assert.Equal("/nonexistent/cat.png: image file not found", e.Message);
    }

    [Fact]
    public void Unsupported_Or_Corrupt_Data_Is_Refused_Naming_The_File()
    {
        string path = TestImages.WriteTemp("this is not an image\n"u8.ToArray(), ".png");
        try
        {
            var e = Assert.Throws<ImageInputException>(() => ImageDecoder.DecodeFile(path));
            Assert.StartsWith(path + ": not an image in a supported format", e.Message);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void Empty_File_Is_Refused_Naming_The_File()
    {
        string path = TestImages.WriteTemp([], ".jpg");
        try { Assert.Equal($"{path}: the image file is empty", Assert.Throws<ImageInputException>(() => ImageDecoder.DecodeFile(path)).Message); }
        finally { File.Delete(path); }
    }

    [Fact]
    public void Truncated_Png_Is_Refused_Naming_The_File()
    {
        var random = new Random(7);
        var rgba = TestImages.Rgba(64, 64, (_, _, c) => c == 3 ? (byte)255 : (byte)random.Next(256));
        var png = TestImages.Encode(64, 64, rgba, SKEncodedImageFormat.Png);
        string path = TestImages.WriteTemp(png[..(png.Length / 2)], ".png");
        try
        {
            var e = Assert.Throws<ImageInputException>(() => ImageDecoder.DecodeFile(path));
            Assert.StartsWith($"{path}: the image data is truncated", e.Message);
        }
        finally { File.Delete(path); }
    }
}
