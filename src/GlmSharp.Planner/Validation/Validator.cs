using GlmSharp.Planner.Cost;

namespace GlmSharp.Planner.Validation;

public sealed record PointResult(ValidationPoint Point, string Group, double Predicted, double Error, double? LooPredicted, double? LooError);

/// <summary>Error statistics over measured points (the target), with the same over all points including vendor claims.</summary>
public sealed record ValidationReport(IReadOnlyList<PointResult> Points, double MedianAbsError, double MaxAbsError, double? LooMedianAbsError,
    double? LooMaxAbsError, double AllPointsMedianAbsError, double AllPointsMaxAbsError);

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
                var rest = points.Where(q => q != p && q.IsMeasured && predictor.GroupOf(q) == key).ToList();
                var without = table.Without(key.Family, key.Precision);
                var t = rest.Count > 0 ? without.With(key.Family, key.Precision, calibrator.FitGroup(rest, without, key)) : without;
                looPred = predictor.Predict(p, t);
            }
            results.Add(new PointResult(p, $"{key.Family}/{key.Precision.ToString().ToLowerInvariant()}", pred, Err(pred, p.Measured),
                looPred, looPred is { } lp ? Err(lp, p.Measured) : null));
        }
        var measured = results.Where(r => r.Point.IsMeasured).ToList();
        var abs = measured.Select(r => Math.Abs(r.Error)).ToList();
        var looAbs = measured.Where(r => r.LooError is not null).Select(r => Math.Abs(r.LooError!.Value)).ToList();
        var allAbs = results.Select(r => Math.Abs(r.Error)).ToList();
        return new ValidationReport(results, Serving.Percentile.Of(abs, 0.5), abs.DefaultIfEmpty(0).Max(),
            looAbs.Count > 0 ? Serving.Percentile.Of(looAbs, 0.5) : null, looAbs.Count > 0 ? looAbs.Max() : null,
            Serving.Percentile.Of(allAbs, 0.5), allAbs.Max());
    }

    private static double Err(double predicted, double measured) => (predicted - measured) / measured;
}
