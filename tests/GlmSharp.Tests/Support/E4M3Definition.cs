namespace GlmSharp.Tests.Support;

/// <summary>
/// FP8 E4M3 straight from the OCP 8-bit floating point definition, independent of GlmSharp's codec: sign bit,
/// 4 exponent bits with bias 7, 3 mantissa bits; exponent 0 is subnormal (m/8·2⁻⁶); S.1111.111 is NaN; no infinities.
/// </summary>
public static class E4M3Definition
{
    public static double Value(byte code)
    {
        int sign = code >> 7, exponent = (code >> 3) & 0xF, mantissa = code & 7;
        if (exponent == 15 && mantissa == 7) return double.NaN;
        double magnitude = exponent == 0 ? mantissa / 8.0 * Math.Pow(2, -6) : (1 + mantissa / 8.0) * Math.Pow(2, exponent - 7);
        return sign == 1 ? -magnitude : magnitude;
    }

    private static readonly double[] Values = Enumerable.Range(0, 256).Select(c => Value((byte)c)).ToArray();

    /// <summary>The code of the finite E4M3 value nearest to x (|x| ≤ 448), by search over all codes.</summary>
    public static byte Nearest(double x)
    {
        int best = 0;
        for (int code = 1; code < 256; code++)
            if (!double.IsNaN(Values[code]) && Math.Abs(Values[code] - x) < Math.Abs(Values[best] - x)) best = code;
        return (byte)best;
    }
}
