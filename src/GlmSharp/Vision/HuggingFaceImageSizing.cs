namespace GlmSharp.Vision;

/// <summary>
/// The resized size of transformers' glm4v smart_resize: sides rounded to multiples of <c>factor</c> (Python's
/// round, half to even), then scaled down (floor) or up (ceil) so that temporal_factor · h · w stays within
/// [minPixels, maxPixels]. An image counts as temporal_factor frames, as the processor passes num_frames = 2 for it.
/// The aspect ratio is not kept exactly: the image is stretched to the chosen size.
/// </summary>
public static class HuggingFaceImageSizing
{
    public const double MaxAspectRatio = 200;

    public static ImageSize Resize(int height, int width, int factor, long minPixels, long maxPixels, int temporalFactor, string origin)
    {
        if (height < factor || width < factor)
        {
            // Sides under one factor are scaled up first, truncating as Python's int() does.
            double scale = Math.Max((double)factor / height, (double)factor / width);
            height = (int)(height * scale);
            width = (int)(width * scale);
        }
        double aspect = (double)Math.Max(height, width) / Math.Min(height, width);
        if (aspect > MaxAspectRatio)
            throw new ImageInputException($"{origin}: aspect ratio {aspect:0.##} is above the processor's limit of {MaxAspectRatio}");

        int hBar = RoundHalfEven((double)height / factor) * factor;
        int wBar = RoundHalfEven((double)width / factor) * factor;
        long frames = temporalFactor;
        if (frames * hBar * wBar > maxPixels)
        {
            double beta = Math.Sqrt((double)temporalFactor * height * width / maxPixels);
            hBar = Math.Max(factor, (int)Math.Floor(height / beta / factor) * factor);
            wBar = Math.Max(factor, (int)Math.Floor(width / beta / factor) * factor);
        }
        else if (frames * hBar * wBar < minPixels)
        {
            double beta = Math.Sqrt(minPixels / ((double)temporalFactor * height * width));
            hBar = (int)Math.Ceiling(height * beta / factor) * factor;
            wBar = (int)Math.Ceiling(width * beta / factor) * factor;
        }
        return new ImageSize(hBar, wBar);
    }

    private static int RoundHalfEven(double x) => (int)Math.Round(x, MidpointRounding.ToEven);
}
