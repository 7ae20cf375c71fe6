namespace GlmSharp.Vision;

/// <summary>
/// The resized size of transformers' glm4v smart_resize: sides rounded to multiples of <c>factor</c> (Python's
/// round, half to even), then scaled down (floor) or up (ceil) so that t̄ · h · w stays within [minPixels, maxPixels],
/// t̄ being the frame count rounded to a multiple of temporal_factor. An image counts as temporal_factor frames, as the
/// image processor passes num_frames = 2 for it; the video processor passes the sampled frame count, so a longer video
/// gets smaller frames. The aspect ratio is not kept exactly: the image is stretched to the chosen size.
/// </summary>
public static class HuggingFaceImageSizing
{
    public const double MaxAspectRatio = 200;

    public static ImageSize Resize(int height, int width, int factor, long minPixels, long maxPixels, int temporalFactor, string origin, int? frames = null)
    {
        int frameCount = frames ?? temporalFactor;
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
        long tBar = (long)RoundHalfEven((double)frameCount / temporalFactor) * temporalFactor;
        if (tBar * hBar * wBar > maxPixels)
        {
            double beta = Math.Sqrt((double)frameCount * height * width / maxPixels);
            hBar = Math.Max(factor, (int)Math.Floor(height / beta / factor) * factor);
            wBar = Math.Max(factor, (int)Math.Floor(width / beta / factor) * factor);
        }
        else if (tBar * hBar * wBar < minPixels)
        {
            double beta = Math.Sqrt(minPixels / ((double)frameCount * height * width));
            hBar = (int)Math.Ceiling(height * beta / factor) * factor;
            wBar = (int)Math.Ceiling(width * beta / factor) * factor;
        }
        return new ImageSize(hBar, wBar);
    }

    private static int RoundHalfEven(double x) => (int)Math.Round(x, MidpointRounding.ToEven);
}
