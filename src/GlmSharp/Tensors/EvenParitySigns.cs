using System.Numerics;

namespace GlmSharp.Tensors;

/// <summary>
/// The sign patterns of IQ2_XXS, IQ2_XS and IQ3_XXS (ggml's ksigns_iq2xs): seven stored bits give the signs of the
/// first seven of eight values, and the eighth is whatever makes the count of negative values even, which saves a bit
/// per group. Bit j of a pattern is set when value j is negative.
/// </summary>
public static class EvenParitySigns
{
    private static readonly byte[] Patterns = Build();

    /// <summary>The eight-value sign pattern for each of the 128 stored seven-bit codes.</summary>
    public static ReadOnlySpan<byte> Table => Patterns;

    private static byte[] Build()
    {
        var patterns = new byte[128];
        for (int code = 0; code < patterns.Length; code++)
            patterns[code] = (byte)(code | (BitOperations.PopCount((uint)code) & 1) << 7);
        return patterns;
    }
}
