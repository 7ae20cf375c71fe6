using GlmSharp.Planner.Cost;

namespace GlmSharp.Planner.Validation;

public sealed record PointResult(ValidationPoint Point, string Group, double Predicted, double Error, double? LooPredicted, double? LooError);

public sealed record ValidationReport(IReadOnlyList<PointResult> Points, double MedianAbsError, double MaxAbsError, double? LooMedianAbsError, double? LooMaxAbsError);

/// <summary>
/// Predicted vs measured for every point with the given factors, and leave-one-out: refit the point's group without it
/// (falling back to the family's other precisions or the defaults when the group empties) and predict it.
/// </summary>
public sealed class Validator(PointPredictor predictor, Calibrator calibrator)
{
    public ValidationReport Run(IReadOnlyList<ValidationPoint> points, EfficiencyTable table, bool leaveOneOut)
    {
        var results = new List<PointResult>();
        foreach (var p in points)
        {
            var key = predictor.GroupOf(p);
            double pred = predictor.Predict(p, table);
            double? looPred = null;
            if (leaveOneOut)
            {
                var rest = points.Where(q => q != p && predictor.GroupOf(q) == key).ToList();
                var without = table.Without(key.Family, key.Precision);
                var t = rest.Count > 0 ? without.With(key.Family, key.Precision, calibrator.FitGroup(rest, without, key)) : without;
                looPred = predictor.Predict(p, t);
            }
            results.Add(new PointResult(p, $"{key.Family}/{key.Precision.ToString().ToLowerInvariant()}", pred, Err(pred, p.Measured),
                looPred, looPred is { } lp ? Err(lp, p.Measured) : null));
        }
        var abs = results.Select(r => Math.Abs(r.Error)).ToList();
        var looAbs = results.Where(r => r.LooError is not null).Select(r => Math.Abs(r.LooError!.Value)).ToList();
        return new ValidationReport(results, Serving.Percentile.Of(abs, 0.5), abs.Max(),
            looAbs.Count > 0 ? Serving.Percentile.Of(looAbs, 0.5) : null, looAbs.Count > 0 ? looAbs.Max() : null);
    }

    private static double Err(double predicted, double measured) => (predicted - measured) / measured;
}
