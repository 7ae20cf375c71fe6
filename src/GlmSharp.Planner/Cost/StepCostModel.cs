using GlmSharp.Planner.Models;

namespace GlmSharp.Planner.Cost;

/// <summary>Where a step's time goes, per chip, in seconds.</summary>
public sealed record StepTime(double Compute, double Memory, double Roofline, double Communication, double Overhead, double Total);

/// <summary>
/// Prices one engine step: each operator takes max(FLOPs / effective peak, bytes / effective bandwidth), collectives
/// take their alpha-beta time on the level they cross, and a fixed per-layer overhead is added. With overlap, the
/// step takes the longer of computation and communication instead of their sum.
/// </summary>
public sealed class StepCostModel
{
    private readonly Deployment _d;
    private readonly EfficiencyFactors _eff;
    private readonly double _gemmFlops, _attnFlops, _bandwidth;
    private readonly Level _up, _out;

    public StepCostModel(Deployment d, EfficiencyFactors eff)
    {
        _d = d;
        _eff = eff;
        var chip = d.Chip;
        _gemmFlops = chip.PeakFlops(d.Precision) * eff.Compute;
        _attnFlops = chip.AttentionFlops(d.Precision) * eff.Compute;
        _bandwidth = chip.HbmBytesPerSecond * eff.Memory;
        _up = new Level(chip.ScaleUpGbps.Value * 1e9, d.System.ScaleUpLatencyUs.Value * 1e-6);
        _out = new Level((chip.ScaleOutGbps?.Value ?? 50) * 1e9, d.System.ScaleOutLatencyUs.Value * 1e-6);
    }

    public Deployment Deployment => _d;

    /// <summary>Time of one step for the whole pipeline; with PP > 1 the batch is cut into PP micro-batches.</summary>
    public StepTime Step(StepBatch batch)
    {
        int pp = _d.Parallel.Pp;
        var stage = Stage(pp == 1 ? batch : batch.Scale(1.0 / pp));
        if (pp == 1) return stage;
        return new StepTime(stage.Compute * pp, stage.Memory * pp, stage.Roofline * pp, stage.Communication * pp, stage.Overhead * pp, stage.Total * pp);
    }

    public StepTime Stage(StepBatch batch)
    {
        double compute = 0, memory = 0, roof = 0, comm = 0;
        foreach (var op in OperatorGraph.Build(_d, batch))
        {
            if (op.IsCommunication) { comm += op.Count * Communication(op); continue; }
            double c = op.Flops / (op.Kind == OperatorKind.AttentionMath ? _attnFlops : _gemmFlops);
            double m = op.Bytes / _bandwidth;
            compute += op.Count * c;
            memory += op.Count * m;
            roof += op.Count * Math.Max(c, m);
        }
        double layers = (double)_d.Model.Layers / _d.Parallel.Pp + (batch.DecodeRequests > 0 ? _d.DraftTokens : 0);
        double overhead = layers * _eff.LayerOverheadUs * 1e-6;
        double total = (_d.Overlap ? Math.Max(roof, comm) : roof + comm) + overhead;
        return new StepTime(compute, memory, roof, comm, overhead, total);
    }

    private double Communication(Operator op)
    {
        int domain = _d.System.ScaleUpDomain;
        return op.Kind switch
        {
            OperatorKind.AllReduce => Collectives.AllReduce(op.GroupSize, op.Bytes, domain, _up, _out),
            OperatorKind.AllToAll => Collectives.AllToAll(op.GroupSize, op.Bytes, domain, _up, _out),
            _ => Collectives.PointToPoint(op.Bytes, _d.Parallel.Chips <= domain ? _up.Bandwidth : _out.Bandwidth, _up.Alpha),
        };
    }
}
