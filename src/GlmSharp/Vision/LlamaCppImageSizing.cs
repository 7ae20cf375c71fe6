namespace GlmSharp.Vision;

/// <summary>
/// The canvas size of llama.cpp mtmd's dynamic-size pre-processing (clip's calc_size_preserved_ratio), in its float32
/// arithmetic: sides rounded (half away from zero) to multiples of <c>align</c>, then scaled down (floor) or up (ceil)
/// so that h · w stays within [minPixels, maxPixels]. The pixel limits are its token limits times (patch · merge)².
/// </summary>
public static class LlamaCppImageSizing
{
    public const int DefaultMinTokens = 8;
    public const int DefaultMaxTokens = 4096;

    public static ImageSize Resize(int height, int width, int align, int minPixels, int maxPixels)
    {
        int hBar = Math.Max(align, RoundBy(height, align));
        int wBar = Math.Max(align, RoundBy(width, align));
        float area = (float)((long)height * width);
        if ((long)hBar * wBar > maxPixels)
        {
            float beta = MathF.Sqrt(area / maxPixels);
            hBar = Math.Max(align, FloorBy(height / beta, align));
            wBar = Math.Max(align, FloorBy(width / beta, align));
        }
        else if ((long)hBar * wBar < minPixels)
        {
            float beta = MathF.Sqrt(minPixels / area);
            hBar = CeilBy(height * beta, align);
            wBar = CeilBy(width * beta, align);
        }
        return new ImageSize(hBar, wBar);
    }

    private static int RoundBy(float x, int f) => (int)MathF.Round(x / f, MidpointRounding.AwayFromZero) * f;
    private static int FloorBy(float x, int f) => (int)MathF.Floor(x / f) * f;
    private static int CeilBy(float x, int f) => (int)MathF.Ceiling(x / f) * f;
}
