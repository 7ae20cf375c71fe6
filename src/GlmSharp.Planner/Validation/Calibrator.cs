using GlmSharp.Planner.Catalog;
using GlmSharp.Planner.Cost;

namespace GlmSharp.Planner.Validation;

/// <summary>
/// Fits one set of efficiency factors per (chip family, precision) to the validation points of that group, minimising
/// the squared log error plus a weak pull towards the defaults (so groups with one or two points stay well defined).
/// No factor is ever specific to a point, and vendor claims are checked but never fitted.
/// </summary>
public sealed class Calibrator(PointPredictor predictor)
{
    /// <summary>Weight of the pull towards <see cref="EfficiencyFactors.Default"/>, per squared log-unit.</summary>
    public const double PriorWeight = 0.02;

    private static readonly (double Lo, double Hi)[] Bounds = [(0.03, 1.0), (0.1, 1.0), (1, 2000)];

    public EfficiencyTable Fit(IReadOnlyList<ValidationPoint> points)
    {
        var table = EfficiencyTable.Empty;
        foreach (var group in points.Where(p => p.IsMeasured).GroupBy(predictor.GroupOf))
            table = table.With(group.Key.Family, group.Key.Precision, FitGroup(group.ToList(), table, group.Key));
        return table;
    }

    public EfficiencyFactors FitGroup(IReadOnlyList<ValidationPoint> points, EfficiencyTable others, (string Family, Precision Precision) key)
    {
        double[] x = [Math.Log(EfficiencyFactors.Default.Compute), Math.Log(EfficiencyFactors.Default.Memory), Math.Log(EfficiencyFactors.Default.LayerOverheadUs)];
        double[] prior = [.. x];
        double Loss(double[] v)
        {
            var f = new EfficiencyFactors(Math.Exp(v[0]), Math.Exp(v[1]), Math.Exp(v[2]));
            var t = others.With(key.Family, key.Precision, f);
            double loss = 0;
            foreach (var p in points)
            {
                double pred = predictor.Predict(p, t);
                double e = pred > 0 ? Math.Log(pred / p.Measured) : 5;
                loss += e * e;
            }
            for (int i = 0; i < 3; i++) loss += PriorWeight * (v[i] - prior[i]) * (v[i] - prior[i]);
            return loss;
        }
        double best = Loss(x);
        // Coordinate descent by golden-section search on each log-factor within its bounds.
        for (int round = 0; round < 3; round++)
            for (int i = 0; i < 3; i++)
            {
                double lo = Math.Log(Bounds[i].Lo), hi = Math.Log(Bounds[i].Hi);
                double Along(double v) { var y = (double[])x.Clone(); y[i] = v; return Loss(y); }
                double g = (Math.Sqrt(5) - 1) / 2;
                double a = lo, b = hi, c = b - g * (b - a), d = a + g * (b - a);
                double fc = Along(c), fd = Along(d);
                for (int it = 0; it < 14; it++)
                {
                    if (fc < fd) { b = d; d = c; fd = fc; c = b - g * (b - a); fc = Along(c); }
                    else { a = c; c = d; fc = fd; d = a + g * (b - a); fd = Along(d); }
                }
                double cand = fc < fd ? c : d, fcand = Math.Min(fc, fd);
                if (fcand < best) { best = fcand; x[i] = cand; }
            }
        return new EfficiencyFactors(Math.Exp(x[0]), Math.Exp(x[1]), Math.Exp(x[2]));
    }
}
