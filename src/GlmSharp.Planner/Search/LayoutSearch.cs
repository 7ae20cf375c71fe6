using GlmSharp.Planner.Catalog;
using GlmSharp.Planner.Cost;
using GlmSharp.Planner.Models;
using GlmSharp.Planner.Serving;

namespace GlmSharp.Planner.Search;

/// <summary>One candidate: a decode layout at one batch, with its prefill pool sized to match.</summary>
public sealed record SearchPoint(Parallelism Decode, int BatchPerChip, double TokensPerSecondPerUser, double OutputTokensPerSecondPerChip,
    double DecodeOnlyOutputPerChip, double TpotMs, double MemoryPerChipGb, double PrefillShare);

/// <summary>
/// Enumerates TP/PP/EP/DP layouts of a chip budget and batch sizes that fit memory, prices each with a matched prefill
/// pool (disaggregated), and keeps the Pareto front of throughput per chip against tokens/s per user.
/// </summary>
public static class LayoutSearch
{
    public static IReadOnlyList<SearchPoint> Run(ModelShape model, SystemSpec system, Precision precision, int chips, int inputLen, int outputLen,
        EfficiencyTable table, double mtpAcceptance = 0, double kvBytes = 2)
    {
        var eff = table.For(system.Chip.Family, precision);
        var results = new List<SearchPoint>();
        double context = inputLen + outputLen / 2.0;
        int draft = mtpAcceptance > 0 && model.NextNLayers > 0 ? 1 : 0;
        var prefillDep = Best(model, system, precision, chips, kvBytes, draft, eff, d => SteadyState.Prefill(new StepCostModel(d, eff), 16384, inputLen).TokensPerSecondPerChip);
        if (prefillDep is null) return results;
        double prefillRate = SteadyState.Prefill(new StepCostModel(prefillDep, eff), 16384, inputLen).TokensPerSecondPerChip;
        foreach (var d in Layouts(model, system, precision, chips, kvBytes, draft))
        {
            var cost = new StepCostModel(d, eff);
            int max = Math.Min(1024, MemoryModel.MaxBatchPerChip(d, context));
            for (int b = 1; b <= max; b *= 2)
            {
                var dec = SteadyState.Decode(cost, b, context, mtpAcceptance);
                double balanced = SteadyState.BalancedOutputPerChip(prefillRate, dec.TokensPerSecondPerChip, inputLen, outputLen);
                double share = 1 - balanced / dec.TokensPerSecondPerChip;
                results.Add(new SearchPoint(d.Parallel, b, 1.0 / dec.LatencySeconds, balanced, dec.TokensPerSecondPerChip, dec.LatencySeconds * 1e3, dec.MemoryPerChipBytes / 1e9, share));
            }
        }
        return results;
    }

    /// <summary>Points no other point beats on both throughput per chip and tokens/s per user, by rising tokens/s per user.</summary>
    public static IReadOnlyList<SearchPoint> ParetoFront(IEnumerable<SearchPoint> points)
    {
        var front = new List<SearchPoint>();
        foreach (var p in points.OrderByDescending(p => p.OutputTokensPerSecondPerChip).ThenByDescending(p => p.TokensPerSecondPerUser))
            if (front.Count == 0 || p.TokensPerSecondPerUser > front[^1].TokensPerSecondPerUser) front.Add(p);
        return [.. front.OrderBy(p => p.TokensPerSecondPerUser)];
    }

    /// <summary>Layouts of exactly <paramref name="chips"/> chips (TP and PP powers of two, EP over a stage or none) whose weights fit.</summary>
    public static IEnumerable<Deployment> Layouts(ModelShape model, SystemSpec system, Precision precision, int chips, double kvBytes, int draft)
    {
        for (int tp = 1; tp <= Math.Min(chips, 16); tp *= 2)
            for (int pp = 1; pp <= Math.Min(chips / tp, 8); pp *= 2)
            {
                if (chips % (tp * pp) != 0 || tp > model.Attention.Heads || pp > model.Layers) continue;
                int dp = chips / (tp * pp);
                var eps = model.Moe is null ? new[] { 1 } : new[] { 1, tp * dp }.Distinct();
                foreach (int ep in eps)
                {
                    var d = new Deployment
                    {
                        Model = model, System = system, Precision = precision, Parallel = new Parallelism(tp, pp, ep, dp),
                        KvBytes = kvBytes, DraftTokens = draft,
                    };
                    if (MemoryModel.WeightBytesPerChip(d) < MemoryModel.UsableBytes(d)) yield return d;
                }
            }
    }

    private static Deployment? Best(ModelShape model, SystemSpec system, Precision precision, int chips, double kvBytes, int draft, EfficiencyFactors eff, Func<Deployment, double> rate)
    {
        Deployment? best = null;
        double bestRate = 0;
        foreach (int c in new[] { 1, 2, 4, 8, 16, 32 }.Where(c => c <= chips))
            foreach (var d in Layouts(model, system, precision, c, kvBytes, draft))
            {
                double r = rate(d);
                if (r > bestRate) { bestRate = r; best = d; }
            }
        return best;
    }
}
