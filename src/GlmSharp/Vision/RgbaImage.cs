namespace GlmSharp.Vision;

/// <summary>A decoded image with straight (unpremultiplied) alpha, so each reference's way of dropping alpha can be applied.</summary>
public sealed class RgbaImage
{
    public int Width { get; }
    public int Height { get; }
    public byte[] Pixels { get; }

    public RgbaImage(int width, int height, byte[] pixels)
    {
        PixelBuffer.Check(width, height, 4, pixels, "RGBA");
        Width = width;
        Height = height;
        Pixels = pixels;
    }

    /// <summary>stb_image's RGB load (llama.cpp): the colour channels as stored, alpha ignored.</summary>
    public RgbImage DropAlpha()
    {
        var rgb = new byte[Width * Height * 3];
        for (int p = 0, q = 0; q < rgb.Length; p += 4, q += 3) (rgb[q], rgb[q + 1], rgb[q + 2]) = (Pixels[p], Pixels[p + 1], Pixels[p + 2]);
        return new RgbImage(Width, Height, rgb);
    }

    /// <summary>transformers' convert_to_rgb: the image alpha-composited over an opaque white background.</summary>
    public RgbImage OverWhite()
    {
        var rgb = new byte[Width * Height * 3];
        for (int p = 0, q = 0; q < rgb.Length; p += 4, q += 3)
        {
            int alpha = Pixels[p + 3];
            for (int c = 0; c < 3; c++)
                rgb[q + c] = (byte)((Pixels[p + c] * alpha + 255 * (255 - alpha) + 127) / 255);
        }
        return new RgbImage(Width, Height, rgb);
    }
}
