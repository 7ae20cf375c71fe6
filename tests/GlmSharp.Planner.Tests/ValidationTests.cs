using GlmSharp.Planner.Catalog;
using GlmSharp.Planner.Cost;
using GlmSharp.Planner.Validation;

namespace GlmSharp.Planner.Tests;

public class ValidationTests
{
    [Fact]
    public void Shipped_Factors_Meet_The_Issue_Targets_On_The_Measured_Points()
    {
        var predictor = new PointPredictor(HardwareCatalog.Load());
        var report = new Validator(predictor, new Calibrator(predictor)).Run(ValidationPoint.LoadShipped(), EfficiencyTable.LoadShipped(), leaveOneOut: false);
        Assert.True(report.MedianAbsError <= 0.15, $"median |error| {report.MedianAbsError:P1}");
        Assert.True(report.MaxAbsError <= 0.35, $"max |error| {report.MaxAbsError:P1}");
        Assert.True(report.Points.Count(p => p.Point.IsMeasured) >= 19);
    }

    [Fact]
    public void Vendor_Claim_Is_In_The_Table_But_Outside_The_Measured_Statistics()
    {
        var predictor = new PointPredictor(HardwareCatalog.Load());
        var report = new Validator(predictor, new Calibrator(predictor)).Run(ValidationPoint.LoadShipped(), EfficiencyTable.LoadShipped(), leaveOneOut: false);
        var claim = Assert.Single(report.Points, p => !p.Point.IsMeasured);
        Assert.True(Math.Abs(claim.Error) > report.MaxAbsError, $"claim error {claim.Error:P1} vs measured max {report.MaxAbsError:P1}");
        Assert.Equal(Math.Abs(claim.Error), report.AllPointsMaxAbsError, 12);
    }
}
