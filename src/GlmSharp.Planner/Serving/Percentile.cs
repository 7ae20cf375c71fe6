namespace GlmSharp.Planner.Serving;

public static class Percentile
{
    /// <summary>Linear-interpolated percentile (q in [0,1]) of the values; NaN for none.</summary>
    public static double Of(IReadOnlyList<double> values, double q)
    {
        if (values.Count == 0) return double.NaN;
        var sorted = values.Order().ToArray();
        double pos = q * (sorted.Length - 1);
        int lo = (int)Math.Floor(pos), hi = (int)Math.Ceiling(pos);
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
    }
}
