namespace GlmSharp.Tensors;

/// <summary>The block maxima ggml's reference quantizers derive their scales from, searched the way they search.</summary>
internal static class BlockExtremes
{
    /// <summary>The largest magnitude; a NaN in the block makes it NaN.</summary>
    public static float MaxMagnitude(ReadOnlySpan<float> block)
    {
        float amax = 0f;
        foreach (var v in block) amax = MathF.Max(amax, MathF.Abs(v));
        return amax;
    }

    /// <summary>
    /// The first value of largest magnitude, sign kept: Q4_0 and Q5_0 divide it by a negative code so that it maps
    /// exactly onto the end of the code range that has one more step.
    /// </summary>
    public static float SignedMax(ReadOnlySpan<float> block)
    {
        float amax = 0f, max = 0f;
        foreach (var v in block)
        {
            if (amax < MathF.Abs(v))
            {
                amax = MathF.Abs(v);
                max = v;
            }
        }
        return max;
    }

    /// <summary>The smallest and largest value, as Q4_1 and Q5_1 search them (a NaN compares false and is passed over).</summary>
    public static (float Min, float Max) Range(ReadOnlySpan<float> block)
    {
        float min = float.MaxValue, max = -float.MaxValue;
        foreach (var v in block)
        {
            if (v < min) min = v;
            if (v > max) max = v;
        }
        return (min, max);
    }
}
