namespace GlmSharp.Vision;

/// <summary>
/// llama.cpp mtmd's image resize for glm4v: the image scaled to fit the canvas with its aspect ratio kept (each side
/// ceil(side · scale), at most the canvas side), centred on a black canvas (offset rounded down). The scaling is clip's
/// bilinear with aligned corners: source coordinate = x · (in − 1) / (out − 1) in float32 (0 for a one-pixel output),
/// linear interpolation, the result truncated to uint8. An image already of the canvas size is copied unchanged.
/// (mtmd's glm4v takes this bilinear, resize algorithm 0, in the LLamaSharp 0.30.0 build; older llama.cpp divided by
/// out rather than out − 1, and newer source sets bicubic for glm4v.)
/// </summary>
public static class LlamaCppBilinear
{
    public static RgbImage FitOnBlackCanvas(RgbImage source, int width, int height)
    {
        if (width == source.Width && height == source.Height) return source;
        float scale = Math.Min((float)width / source.Width, (float)height / source.Height);
        int fittedWidth = Math.Min((int)MathF.Ceiling(source.Width * scale), width);
        int fittedHeight = Math.Min((int)MathF.Ceiling(source.Height * scale), height);
        var fitted = Resize(source, fittedWidth, fittedHeight);

        var canvas = new byte[width * height * 3];
        int offsetX = (width - fittedWidth) / 2, offsetY = (height - fittedHeight) / 2;
        for (int y = 0; y < fittedHeight; y++)
            Array.Copy(fitted.Pixels, y * fittedWidth * 3, canvas, ((y + offsetY) * width + offsetX) * 3, fittedWidth * 3);
        return new RgbImage(width, height, canvas);
    }

    public static RgbImage Resize(RgbImage source, int width, int height)
    {
        float xRatio = width > 1 ? (float)(source.Width - 1) / (width - 1) : 0f;
        float yRatio = height > 1 ? (float)(source.Height - 1) / (height - 1) : 0f;
        var pixels = new byte[width * height * 3];
        for (int y = 0; y < height; y++)
        {
            float py = yRatio * y;
            int y0 = (int)py;
            float yLerp = py - y0;
            // clip reads one row/column past a one-pixel-wide source; clamping keeps that read in bounds with the same value.
            int y1 = Math.Min(y0 + 1, source.Height - 1);
            for (int x = 0; x < width; x++)
            {
                float px = xRatio * x;
                int x0 = (int)px;
                float xLerp = px - x0;
                int x1 = Math.Min(x0 + 1, source.Width - 1);
                for (int c = 0; c < 3; c++)
                {
                    float top = Lerp(source[x0, y0, c], source[x1, y0, c], xLerp);
                    float bottom = Lerp(source[x0, y1, c], source[x1, y1, c], xLerp);
                    pixels[(y * width + x) * 3 + c] = (byte)Lerp(top, bottom, yLerp);
                }
            }
        }
        return new RgbImage(width, height, pixels);
    }

    private static float Lerp(float start, float end, float t) => start + (end - start) * t;
}
