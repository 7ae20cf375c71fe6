namespace GlmSharp.Tensors;

/// <summary>
/// The 4-bit float E2M1 (sign, two exponent bits, one mantissa bit) shared by MXFP4 and NVFP4, and their block scales.
/// ggml stores E2M1 values doubled, as the integers 0, 1, 2, 3, 4, 6, 8, 12 (codes 8–15 the negatives), so that
/// kernels multiply integers; every scale decoder therefore returns half the scale's value.
/// </summary>
public static class Fp4
{
    /// <summary>Twice the E2M1 value of each 4-bit code (ggml's kvalues_mxfp4).</summary>
    public static ReadOnlySpan<sbyte> DoubledValues => [0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12];

    /// <summary>Half of the E8M0 scale 2^(e−127), exact for every byte (e = 0 and 1 are fp32 subnormals).</summary>
    public static float E8M0Half(byte e) =>
        BitConverter.UInt32BitsToSingle(e < 2 ? 0x00200000u << e : (uint)(e - 1) << 23);

    /// <summary>
    /// Half of an unsigned E4M3 scale (4 exponent bits, bias 7, 3 mantissa bits, subnormals below 2⁻⁶). The top bit is
    /// ignored and 0x7F, E4M3's NaN, reads as 0 — what ggml_ue4m3_to_fp32 does.
    /// </summary>
    public static float Ue4m3Half(byte code)
    {
        if (code == 0x7F) return 0f;
        int exponent = (code >> 3) & 0xF, mantissa = code & 7;
        float value = exponent == 0 ? mantissa * (1f / 512) : (1 + mantissa / 8f) * MathF.ScaleB(1f, exponent - 7);
        return value * 0.5f;
    }

    /// <summary>
    /// The UE4M3 code of a non-negative scale, as ggml_fp32_to_ue4m3 rounds it: mantissa rounded half up, subnormals
    /// to the nearest multiple of 2⁻⁹ capped at 7·2⁻⁹, and anything needing exponent field 15 saturated to 0x7E (448).
    /// </summary>
    public static byte ToUe4m3(float scale)
    {
        if (!(scale > 0)) return 0;
        scale = MathF.Min(scale, 448f);
        uint bits = BitConverter.SingleToUInt32Bits(scale);
        int exponent = (int)((bits >> 23) & 0xFF) - 127 + 7;
        if (exponent <= 0)
        {
            int steps = (int)(scale * 512f + 0.5f);
            return (byte)Math.Clamp(steps, 0, 7);
        }
        if (exponent >= 15) return 0x7E;
        int mantissa = (int)((bits >> 20) & 7) + (int)((bits >> 19) & 1);
        if (mantissa > 7)
        {
            mantissa = 0;
            if (++exponent >= 15) return 0x7E;
        }
        return (byte)((exponent << 3) | mantissa);
    }

    /// <summary>The code whose value times <paramref name="halfScale"/> is nearest to x; the lowest code wins a tie (ggml's best_index_mxfp4).</summary>
    public static int NearestCode(float x, float halfScale)
    {
        var values = DoubledValues;
        int best = 0;
        float bestError = MathF.Abs(values[0] * halfScale - x);
        for (int i = 1; i < 16; i++)
        {
            float error = MathF.Abs(values[i] * halfScale - x);
            if (error < bestError)
            {
                best = i;
                bestError = error;
            }
        }
        return best;
    }
}
