namespace GlmSharp.Vision;

/// <summary>
/// Bicubic resize as transformers' torchvision image processor runs it (torch interpolate, bicubic, antialias on,
/// uint8 in and out): Keys' cubic with a = −0.5, the kernel widened by the scale when shrinking (Pillow's filter
/// support), weights normalised per output pixel, pixel centres at (i + 0.5) · in/out. Separable in float32, width
/// first, then clamped to [0, 255] and rounded half to even once at the end. Pillow's own BICUBIC differs only in
/// rounding: it keeps 8-bit fixed-point weights and rounds to uint8 between the two passes.
/// </summary>
public static class AntialiasedBicubic
{
    private const float A = -0.5f;
    private const float Support = 2f;

    public static RgbImage Resize(RgbImage source, int width, int height)
    {
        if (width == source.Width && height == source.Height) return source;
        var horizontal = new float[source.Height * width * 3];
        var (xStart, xWeights, xTaps) = Weights(source.Width, width);
        for (int y = 0; y < source.Height; y++)
            for (int x = 0; x < width; x++)
                for (int c = 0; c < 3; c++)
                {
                    float sum = 0;
                    for (int k = 0; k < xTaps; k++)
                    {
                        float w = xWeights[x * xTaps + k];
                        if (w != 0) sum += w * source[xStart[x] + k, y, c];
                    }
                    horizontal[(y * width + x) * 3 + c] = sum;
                }

        var pixels = new byte[width * height * 3];
        var (yStart, yWeights, yTaps) = Weights(source.Height, height);
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
                for (int c = 0; c < 3; c++)
                {
                    float sum = 0;
                    for (int k = 0; k < yTaps; k++)
                    {
                        float w = yWeights[y * yTaps + k];
                        if (w != 0) sum += w * horizontal[((yStart[y] + k) * width + x) * 3 + c];
                    }
                    pixels[(y * width + x) * 3 + c] = (byte)MathF.Round(Math.Clamp(sum, 0f, 255f), MidpointRounding.ToEven);
                }
        return new RgbImage(width, height, pixels);
    }

    /// <summary>For each output index: the first input index it reads and its normalised tap weights (zero-padded to a common tap count).</summary>
    private static (int[] Start, float[] Weights, int Taps) Weights(int inSize, int outSize)
    {
        float scale = (float)inSize / outSize;
        float stretch = Math.Max(scale, 1f);
        float support = Support * stretch;
        int taps = (int)MathF.Ceiling(support) * 2 + 1;
        var start = new int[outSize];
        var weights = new float[outSize * taps];
        for (int i = 0; i < outSize; i++)
        {
            float center = scale * (i + 0.5f);
            int min = Math.Max((int)(center - support + 0.5f), 0);
            int max = Math.Min((int)(center + support + 0.5f), inSize);
            start[i] = min;
            float total = 0;
            for (int j = 0; j < max - min; j++)
            {
                float w = Cubic((j + min - center + 0.5f) / stretch);
                weights[i * taps + j] = w;
                total += w;
            }
            if (total != 0)
                for (int j = 0; j < max - min; j++) weights[i * taps + j] /= total;
        }
        return (start, weights, taps);
    }

    private static float Cubic(float x)
    {
        x = MathF.Abs(x);
        if (x < 1) return ((A + 2) * x - (A + 3)) * x * x + 1;
        if (x < 2) return (((x - 5) * x + 8) * x - 4) * A;
        return 0;
    }
}
