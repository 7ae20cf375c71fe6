using GlmSharp.Planner.Catalog;
using GlmSharp.Planner.Cost;
using GlmSharp.Planner.Models;
using GlmSharp.Planner.Serving;

namespace GlmSharp.Planner.Validation;

/// <summary>Predicts a validation point's metric from the catalog and a table of efficiency factors.</summary>
public sealed class PointPredictor(HardwareCatalog catalog)
{
    private readonly Dictionary<string, ModelShape> _models = [];

    public (string Family, Precision Precision) GroupOf(ValidationPoint p) => (catalog.System(p.Hardware).Chip.Family, p.Precision);

    public double Predict(ValidationPoint p, EfficiencyTable table)
    {
        var system = catalog.System(p.Hardware);
        var model = Model(p.Model);
        var eff = table.For(system.Chip.Family, p.Precision);
        int draft = p.MtpAcceptance > 0 ? 1 : 0;
        Deployment Dep(int tp, int ep, int dp) => new()
        {
            Model = model, System = system, Precision = p.Precision, Parallel = new Parallelism(tp, 1, ep, dp),
            KvBytes = p.KvBytes, Overlap = p.Overlap, ExpertImbalance = p.ExpertImbalance, DraftTokens = draft,
        };
        double context = p.InputLen + p.OutputLen / 2.0;
        switch (p.Mode)
        {
            case PointMode.Decode:
            {
                var d = Dep(p.Tp, p.Ep, p.Dp);
                int batch = p.BatchPerChip ?? Math.Min(1024, MemoryModel.MaxBatchPerChip(d, context));
                return SteadyState.Decode(new StepCostModel(d, eff), Math.Max(1, batch), context, p.MtpAcceptance).TokensPerSecondPerChip;
            }
            case PointMode.Prefill:
                return SteadyState.Prefill(new StepCostModel(Dep(p.Tp, p.Ep, p.Dp), eff), p.TokensPerChip, p.InputLen).TokensPerSecondPerChip;
            case PointMode.PdSlo:
            {
                var prefill = SteadyState.Prefill(new StepCostModel(Dep(p.PrefillTp ?? 1, p.PrefillEp ?? 1, p.PrefillDp ?? 1), eff), p.TokensPerChip, p.InputLen);
                double best = 0;
                foreach (int ep in p.EpOptions.Length > 0 ? p.EpOptions : [p.Ep])
                {
                    var d = Dep(p.Tp, ep, ep / p.Tp);
                    var dec = SteadyState.BestDecodeUnderTpot(new StepCostModel(d, eff), context, p.MtpAcceptance, p.TpotSloMs!.Value / 1e3);
                    if (dec is null) continue;
                    double rate = p.PrefillChips is { } pc && p.DecodeChips is { } dc
                        ? SteadyState.FixedPoolsOutputPerChip(pc, prefill.TokensPerSecondPerChip, dc, dec.TokensPerSecondPerChip, p.InputLen, p.OutputLen)
                        : SteadyState.BalancedOutputPerChip(prefill.TokensPerSecondPerChip, dec.TokensPerSecondPerChip, p.InputLen, p.OutputLen);
                    best = Math.Max(best, rate);
                }
                return best;
            }
            default:
            {
                var layout = new ServingLayout(Dep(p.Tp, p.Ep, p.Dp), p.PrefillTp is { } ptp ? Dep(ptp, p.PrefillEp ?? 1, p.PrefillDp ?? 1) : null);
                var w = new Workload
                {
                    Input = LengthDistribution.Fixed(p.InputLen), Output = LengthDistribution.Fixed(p.OutputLen),
                    Arrivals = p.Concurrency is null ? ArrivalKind.Offline : ArrivalKind.ClosedLoop,
                    Concurrency = p.Concurrency ?? 0, Requests = p.Concurrency is { } c ? c * 2 : p.Requests,
                };
                var r = ServingSimulator.Run(layout, table, w, p.MtpAcceptance);
                return p.Metric switch
                {
                    PointMetric.Output => r.OutputTokensPerSecondPerChip,
                    PointMetric.Input => r.InputTokensPerSecondPerChip,
                    _ => r.InputTokensPerSecondPerChip + r.OutputTokensPerSecondPerChip,
                };
            }
        }
    }

    private ModelShape Model(string id)
    {
        if (!_models.TryGetValue(id, out var m)) _models[id] = m = ModelCatalog.Load(id);
        return m;
    }
}
