using GlmSharp.Vision;
using SkiaSharp;

namespace GlmSharp.Imaging;

/// <summary>
/// Reads PNG, JPEG, WebP (and the other formats Skia knows) into straight-alpha RGBA for the vision pre-processor.
/// Decoding lives outside the engine so that SkiaSharp's native libraries reach only the programs that read image files.
/// </summary>
public static class ImageDecoder
{
    public static RgbaImage DecodeFile(string path)
    {
        if (!File.Exists(path)) throw new ImageInputException($"{path}: image file not found");
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (IOException e) { throw new ImageInputException($"{path}: cannot read the image file ({e.Message})", e); }
        return Decode(bytes, path);
    }

    public static RgbaImage Decode(byte[] bytes, string origin)
    {
        if (bytes.Length == 0) throw new ImageInputException($"{origin}: the image file is empty");
        using var data = SKData.CreateCopy(bytes);
        using var codec = SKCodec.Create(data)
            ?? throw new ImageInputException($"{origin}: not an image in a supported format (PNG, JPEG, WebP, GIF, BMP) or its header is corrupt");
        var info = new SKImageInfo(codec.Info.Width, codec.Info.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        if (info.Width < 1 || info.Height < 1) throw new ImageInputException($"{origin}: the image is empty ({info.Width}x{info.Height})");
        var pixels = new byte[checked(info.Width * info.Height * 4)];
        SKCodecResult result;
        unsafe
        {
            fixed (byte* p = pixels) result = codec.GetPixels(info, (IntPtr)p);
        }
        if (result != SKCodecResult.Success)
            throw new ImageInputException(result == SKCodecResult.IncompleteInput
                ? $"{origin}: the image data is truncated ({codec.EncodedFormat}, {info.Width}x{info.Height})"
                : $"{origin}: the image data cannot be decoded ({codec.EncodedFormat}: {result})");
        return new RgbaImage(info.Width, info.Height, pixels);
    }
}
