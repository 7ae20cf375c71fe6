namespace GlmSharp.Tensors;

/// <summary>
/// The scale searches of ggml's reference K-quant encoders (ggml-quants.c), kept operation for operation in single
/// precision so that the codes we write equal llama.cpp's for the same floats.
/// </summary>
internal static class KQuantFit
{
    /// <summary>ggml treats a group whose largest magnitude is below this as all zero (GROUP_MAX_EPS).</summary>
    public const float GroupMaxEps = 1e-15f;

    /// <summary>
    /// ggml's nearest_int: adding 1.5·2²³ leaves the rounded integer (ties to even) in the low mantissa bits.
    /// Kept as the bit trick rather than MathF.Round so inputs outside ±2²² wrap exactly as they do in ggml.
    /// </summary>
    public static int NearestInt(float value) =>
        (BitConverter.SingleToInt32Bits(value + 12582912f) & 0x007fffff) - 0x00400000;

    /// <summary>
    /// make_qkx2_quants: codes 0…<paramref name="nmax"/> with x ≈ scale·L − min, first from the range, then from a
    /// scan of <paramref name="steps"/> + 1 stretched ranges, each solved by weighted least squares for scale and
    /// min and kept when its weighted squared error (weighted absolute error with <paramref name="absoluteError"/>,
    /// ggml's use_mad) is lower. Returns the scale; <paramref name="min"/> is the subtracted minimum (≥ 0).
    /// </summary>
    public static float ScaleAndMin(ReadOnlySpan<float> x, ReadOnlySpan<float> weights, int nmax, Span<byte> codes,
        Span<byte> trial, float rangeStart, float rangeStep, int steps, out float min, bool absoluteError = false)
    {
        int n = x.Length;
        float lo = x[0], hi = x[0];
        float sumW = weights[0];
        float sumX = sumW * x[0];
        for (int i = 1; i < n; i++)
        {
            if (x[i] < lo) lo = x[i];
            if (x[i] > hi) hi = x[i];
            float w = weights[i];
            sumW += w;
            sumX += w * x[i];
        }
        if (lo > 0) lo = 0;
        if (hi == lo)
        {
            codes[..n].Clear();
            min = -lo;
            return 0f;
        }
        float iscale = nmax / (hi - lo);
        float scale = 1 / iscale;
        float bestError = 0;
        for (int i = 0; i < n; i++)
        {
            int l = NearestInt(iscale * (x[i] - lo));
            codes[i] = (byte)Math.Max(0, Math.Min(nmax, l));
            bestError += weights[i] * Loss(scale * codes[i] + lo - x[i], absoluteError);
        }
        for (int step = 0; step <= steps; step++)
        {
            iscale = (rangeStart + rangeStep * step + nmax) / (hi - lo);
            float sumL = 0, sumL2 = 0, sumXL = 0;
            for (int i = 0; i < n; i++)
            {
                int l = Math.Max(0, Math.Min(nmax, NearestInt(iscale * (x[i] - lo))));
                trial[i] = (byte)l;
                float w = weights[i];
                sumL += w * l;
                sumL2 += w * l * l;
                sumXL += w * l * x[i];
            }
            float det = sumW * sumL2 - sumL * sumL;
            if (det <= 0) continue;
            float trialScale = (sumW * sumXL - sumX * sumL) / det;
            float trialMin = (sumL2 * sumX - sumL * sumXL) / det;
            if (trialMin > 0)
            {
                trialMin = 0;
                trialScale = sumXL / sumL2;
            }
            float error = 0;
            for (int i = 0; i < n; i++)
            {
                error += weights[i] * Loss(trialScale * trial[i] + trialMin - x[i], absoluteError);
            }
            if (error < bestError)
            {
                trial[..n].CopyTo(codes);
                bestError = error;
                scale = trialScale;
                lo = trialMin;
            }
        }
        min = -lo;
        return scale;
    }

    private static float Loss(float diff, bool absolute) => absolute ? MathF.Abs(diff) : diff * diff;

    /// <summary>
    /// make_qx_quants with rmse_type 1 and no importance weights: signed codes −nmax…nmax−1 (stored + nmax) with
    /// x ≈ scale·L, weighted by x², trying nineteen scales around −nmax/max and keeping the best least-squares fit.
    /// </summary>
    public static float SymmetricScale(ReadOnlySpan<float> x, int nmax, Span<byte> codes)
    {
        int n = x.Length;
        if (!TrySignedMax(x, codes, out float max)) return 0f;
        float iscale = -nmax / max;
        float sumLX = 0, sumL2 = 0;
        for (int i = 0; i < n; i++)
        {
            int l = Clamp(NearestInt(iscale * x[i]), nmax);
            codes[i] = (byte)(l + nmax);
            float w = x[i] * x[i];
            sumLX += w * x[i] * l;
            sumL2 += w * l * l;
        }
        float scale = sumL2 != 0 ? sumLX / sumL2 : 0f;
        float best = scale * sumLX;
        for (int step = -9; step <= 9; step++)
        {
            if (step == 0) continue;
            iscale = -(nmax + 0.1f * step) / max;
            sumLX = sumL2 = 0;
            for (int i = 0; i < n; i++)
            {
                int l = Clamp(NearestInt(iscale * x[i]), nmax);
                float w = x[i] * x[i];
                sumLX += w * x[i] * l;
                sumL2 += w * l * l;
            }
            if (sumL2 > 0 && sumLX * sumLX > best * sumL2)
            {
                for (int i = 0; i < n; i++) codes[i] = (byte)(Clamp(NearestInt(iscale * x[i]), nmax) + nmax);
                scale = sumLX / sumL2;
                best = scale * sumLX;
            }
        }
        return scale;
    }

    /// <summary>
    /// make_q3_quants with do_rmse: signed codes −nmax…nmax−1 (stored + nmax) from the scale −nmax/max, then up to five
    /// sweeps that move single codes to where the x²-weighted least-squares fit of the others puts them, while that
    /// raises (Σw·l·x)²/Σw·l², the part of Σw·x² the fit explains. An all-zero group (below <see cref="GroupMaxEps"/>)
    /// gets codes 0, not nmax, as in ggml. Returns the least-squares scale of the final codes.
    /// </summary>
    public static float SymmetricScaleRefined(ReadOnlySpan<float> x, int nmax, Span<byte> codes)
    {
        int n = x.Length;
        if (!TrySignedMax(x, codes, out float max)) return 0f;
        Span<int> levels = stackalloc int[n];
        float iscale = -nmax / max;
        float sumLX = 0, sumL2 = 0;
        for (int i = 0; i < n; i++)
        {
            int l = Clamp(NearestInt(iscale * x[i]), nmax);
            levels[i] = l;
            float w = x[i] * x[i];
            sumLX += w * x[i] * l;
            sumL2 += w * l * l;
        }
        for (int sweep = 0; sweep < 5; sweep++)
        {
            int changed = 0;
            for (int i = 0; i < n; i++)
            {
                float w = x[i] * x[i];
                float slx = sumLX - w * x[i] * levels[i];
                // Written as ggml's test so that a NaN sum skips the code as it does there.
                if (!(slx > 0)) continue;
                float sl2 = sumL2 - w * levels[i] * levels[i];
                int l = Clamp(NearestInt(x[i] * sl2 / slx), nmax);
                if (l == levels[i]) continue;
                slx += w * x[i] * l;
                sl2 += w * l * l;
                if (sl2 > 0 && slx * slx * sumL2 > sumLX * sumLX * sl2)
                {
                    levels[i] = l;
                    sumLX = slx;
                    sumL2 = sl2;
                    changed++;
                }
            }
            if (changed == 0) break;
        }
        for (int i = 0; i < n; i++) codes[i] = (byte)(levels[i] + nmax);
        return sumLX / sumL2;
    }

    /// <summary>
    /// The value of largest magnitude (the first of equals), or false with all codes 0 when that magnitude is below
    /// <see cref="GroupMaxEps"/>: ggml's all-zero group.
    /// </summary>
    private static bool TrySignedMax(ReadOnlySpan<float> x, Span<byte> codes, out float max)
    {
        max = LargestMagnitude(x);
        if (MathF.Abs(max) >= GroupMaxEps) return true;
        codes[..x.Length].Clear();
        return false;
    }

    /// <summary>The first value of largest magnitude, sign kept (0 when all are 0): how ggml picks the value a scale maps to its extreme code.</summary>
    public static float LargestMagnitude(ReadOnlySpan<float> x)
    {
        float amax = 0, max = 0;
        foreach (float v in x)
            if (MathF.Abs(v) > amax)
            {
                amax = MathF.Abs(v);
                max = v;
            }
        return max;
    }

    private static int Clamp(int l, int nmax) => Math.Max(-nmax, Math.Min(nmax - 1, l));
}
