using GlmSharp.Training;

namespace GlmSharp.Tests.Training;

/// <summary>
/// Central finite differences on fp32 code. With inputs of order one, a step of 1e-2 leaves a truncation error of about
/// step²·|f'''|/6 ≈ 1e-5 and a rounding error of about |L|·6e-8/step ≈ 1e-5·|L| (the loss is summed in double), so a
/// correct gradient agrees to well under 1 % in norm, while any wrong term (sign, factor, missing path) is off by O(1).
/// </summary>
internal static class FiniteDifference
{
    public const double Step = 1e-2;
    public const double Tolerance = 1e-2;

    /// <summary>‖numeric − analytic‖ / ‖numeric‖ over every entry of <paramref name="values"/>.</summary>
    public static double RelativeError(float[] values, ReadOnlySpan<float> analytic, Func<double> loss) =>
        RelativeError(values, 0, values.Length, analytic, loss);

    /// <param name="step">Smaller than <see cref="Step"/> where the loss curves more (a deep model's embeddings feed it twice).</param>
    public static double RelativeError(float[] values, int offset, int length, ReadOnlySpan<float> analytic, Func<double> loss, double step = Step)
    {
        double diff = 0, norm = 0;
        for (int i = 0; i < length; i++)
        {
            float saved = values[offset + i];
            values[offset + i] = (float)(saved + step);
            double plus = loss();
            values[offset + i] = (float)(saved - step);
            double minus = loss();
            values[offset + i] = saved;
            double numeric = (plus - minus) / (2 * step);
            diff += (numeric - analytic[i]) * (numeric - analytic[i]);
            norm += numeric * numeric;
        }
        Assert.True(norm > 1e-12, "the finite-difference gradient is zero, so the check would prove nothing");
        return Math.Sqrt(diff / norm);
    }

    public static void AssertClose(float[] values, ReadOnlySpan<float> analytic, Func<double> loss, string what)
    {
        double error = RelativeError(values, analytic, loss);
        Assert.True(error < Tolerance, $"{what}: relative gradient error {error:E2} exceeds {Tolerance:E0}");
    }

    public static float[] Random(int length, ulong seed, double std = 1.0, double mean = 0.0)
    {
        var random = new TrainingRandom(seed);
        var values = new float[length];
        for (int i = 0; i < length; i++) values[i] = (float)(mean + std * random.NextGaussian());
        return values;
    }

    /// <summary>Σ output·probe in double: a scalar loss whose gradient with respect to the output is the probe.</summary>
    public static double Project(ReadOnlySpan<float> output, ReadOnlySpan<float> probe)
    {
        double sum = 0;
        for (int i = 0; i < output.Length; i++) sum += (double)output[i] * probe[i];
        return sum;
    }
}
