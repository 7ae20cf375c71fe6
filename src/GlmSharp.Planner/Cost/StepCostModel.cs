using GlmSharp.Planner.Models;

namespace GlmSharp.Planner.Cost;

/// <summary>One operator's share of a stage's step, in seconds: math and HBM time (it takes the larger), or communication.</summary>
public sealed record OperatorTime(string Name, double Compute, double Memory, double Communication);

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

    /// <summary>
    /// One stage's step. Overlap (two-batch overlap, as SGLang and CloudMatrix-Infer run it) splits the batch in two
    /// micro-batches so one's all-to-all runs under the other's math: every layer then runs twice (weights are read twice,
    /// kernels launch twice) and the step takes the longer of the two streams. That only pays when communication is a
    /// large share, so an engine allowed to overlap runs whichever is faster; a batch too small to split cannot overlap.
    /// </summary>
    public StepTime Stage(StepBatch batch)
    {
        var whole = Pass(batch);
        if (!_d.Overlap || whole.Communication == 0 || (batch.DecodeRequests < 2 && batch.PrefillTokens < 2)) return whole;
        var half = Pass(batch.Half());
        double roof = half.Roofline * 2, comm = half.Communication * 2, overhead = half.Overhead * 2;
        var split = new StepTime(half.Compute * 2, half.Memory * 2, roof, comm, overhead, Math.Max(roof, comm) + overhead);
        return split.Total < whole.Total ? split : whole;
    }

    private StepTime Pass(StepBatch batch)
    {
        double compute = 0, memory = 0, roof = 0, comm = 0;
        foreach (var op in OperatorGraph.Build(_d, batch))
        {
            if (op.IsCommunication) { comm += op.Count * Communication(op, batch); continue; }
            double c = op.Flops / (op.Kind == OperatorKind.AttentionMath ? _attnFlops : _gemmFlops);
            double m = op.Bytes / _bandwidth;
            compute += op.Count * c;
            memory += op.Count * m;
            roof += op.Count * Math.Max(c, m);
        }
        double layers = (double)_d.Model.Layers / _d.Parallel.Pp + (batch.DecodeRequests > 0 ? _d.DraftTokens : 0);
        double overhead = layers * _eff.LayerOverheadUs * 1e-6;
        return new StepTime(compute, memory, roof, comm, overhead, roof + comm + overhead);
    }

    /// <summary>Seconds each operator of one stage takes (all its layers together), to show where a step's time goes.</summary>
    public IReadOnlyList<OperatorTime> Breakdown(StepBatch batch) =>
        [.. OperatorGraph.Build(_d, batch).Select(op => op.IsCommunication
            ? new OperatorTime(op.Name, 0, 0, op.Count * Communication(op, batch))
            : new OperatorTime(op.Name, op.Count * op.Flops / (op.Kind == OperatorKind.AttentionMath ? _attnFlops : _gemmFlops), op.Count * op.Bytes / _bandwidth, 0))];

    /// <summary>Decode-only steps use the low-latency exchange; any prefill in the step uses the throughput one.</summary>
    private double Communication(Operator op, StepBatch batch)
    {
        int domain = _d.System.ScaleUpDomain;
        var mode = batch.PrefillTokens > 0 ? ExchangeMode.Normal : ExchangeMode.LowLatency;
        return op.Kind switch
        {
            OperatorKind.AllReduce => Collectives.AllReduce(op.GroupSize, op.Bytes, domain, _up, _out),
            OperatorKind.AllToAll => op.Tokens <= 0 ? 0 : ExpertExchange.Time(mode, op.Tokens, _d.Model.Moe?.ExpertsPerToken ?? 1, op.Bytes / op.Tokens,
                op.GroupSize, domain, _up, _out, op.Skew),
            _ => Collectives.PointToPoint(op.Bytes, _d.Parallel.Chips <= domain ? _up.Bandwidth : _out.Bandwidth, _up.Alpha),
        };
    }
}
