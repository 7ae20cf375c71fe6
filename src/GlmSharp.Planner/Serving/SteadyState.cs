using GlmSharp.Planner.Cost;

namespace GlmSharp.Planner.Serving;

/// <summary>A pool running one phase at a fixed batch, in steady state.</summary>
public sealed record PhasePoint(int BatchPerChip, double StepSeconds, double LatencySeconds, double TokensPerSecondPerChip, double MemoryPerChipBytes, bool Fits);

/// <summary>
/// Closed-form rates of a pool that holds a constant batch: the decode pool of a disaggregated deployment at batch B,
/// or a prefill pool working through prompts. The serving simulator gives the same numbers when its batch is held fixed.
/// </summary>
public static class SteadyState
{
    /// <summary>Tokens a request gains per decode step: 1 + a + a² + … for a chain of drafted tokens with acceptance a.</summary>
    public static double TokensPerStep(int draftTokens, double acceptance)
    {
        double sum = 1, p = 1;
        for (int i = 0; i < draftTokens; i++) { p *= acceptance; sum += p; }
        return sum;
    }

    public static PhasePoint Decode(StepCostModel cost, int batchPerChip, double context, double acceptance)
    {
        var d = cost.Deployment;
        int chipsPerRank = d.Parallel.Tp * d.Parallel.Pp;
        int requests = batchPerChip * chipsPerRank;
        var step = cost.Step(StepBatch.Decode(requests, context, d.DraftTokens, d.Model.Attention.Indexer?.TopK)).Total;
        double perStep = TokensPerStep(d.DraftTokens, acceptance);
        double kvTokensPerChip = requests * context;
        double memory = MemoryModel.BytesPerChip(d, kvTokensPerChip);
        return new PhasePoint(batchPerChip, step, step / perStep, requests * perStep / step / chipsPerRank, memory,
            memory <= MemoryModel.UsableBytes(d));
    }

    /// <summary>Prefill of whole prompts of <paramref name="inputLen"/> tokens, <paramref name="tokensPerChip"/> per chip per step.</summary>
    public static PhasePoint Prefill(StepCostModel cost, double tokensPerChip, int inputLen)
    {
        var d = cost.Deployment;
        int chipsPerRank = d.Parallel.Tp * d.Parallel.Pp;
        double prompts = Math.Max(1, tokensPerChip * chipsPerRank / inputLen);
        var batch = StepBatch.Prefill(inputLen, 0, d.Model.Attention.Indexer?.TopK, completes: true).Scale(prompts) with { PrefillCompletions = (int)Math.Ceiling(prompts) };
        double step = cost.Step(batch).Total;
        double memory = MemoryModel.BytesPerChip(d, prompts * inputLen);
        return new PhasePoint((int)Math.Ceiling(prompts / chipsPerRank), step, step, prompts * inputLen / step / chipsPerRank, memory,
            memory <= MemoryModel.UsableBytes(d));
    }

    /// <summary>
    /// The largest decode batch per chip whose time per output token stays within <paramref name="tpotLimitSeconds"/>
    /// and whose KV fits; null when even one request per chip misses the limit or does not fit.
    /// </summary>
    public static PhasePoint? BestDecodeUnderTpot(StepCostModel cost, double context, double acceptance, double tpotLimitSeconds, int maxBatch = 4096)
    {
        int memoryMax = Math.Min(maxBatch, MemoryModel.MaxBatchPerChip(cost.Deployment, context));
        if (memoryMax < 1) return null;
        var one = Decode(cost, 1, context, acceptance);
        if (one.LatencySeconds > tpotLimitSeconds) return null;
        int lo = 1, hi = memoryMax;
        while (lo < hi)
        {
            int mid = (lo + hi + 1) / 2;
            if (Decode(cost, mid, context, acceptance).LatencySeconds <= tpotLimitSeconds) lo = mid; else hi = mid - 1;
        }
        return Decode(cost, lo, context, acceptance);
    }

    /// <summary>
    /// Output tokens/s per chip of a disaggregated deployment whose prefill and decode pools are sized to match: a chip-second
    /// of output needs 1/decodeRate decode chip-seconds plus (in/out)/prefillRate prefill chip-seconds.
    /// </summary>
    public static double BalancedOutputPerChip(double prefillInputPerChip, double decodeOutputPerChip, double inputLen, double outputLen) =>
        1.0 / (1.0 / decodeOutputPerChip + inputLen / outputLen / prefillInputPerChip);

    /// <summary>Output tokens/s per chip of fixed pools: the slower of what the decode pool emits and what the prefill pool feeds it.</summary>
    public static double FixedPoolsOutputPerChip(int prefillChips, double prefillInputPerChip, int decodeChips, double decodeOutputPerChip, double inputLen, double outputLen) =>
        Math.Min(decodeChips * decodeOutputPerChip, prefillChips * prefillInputPerChip * outputLen / inputLen) / (prefillChips + decodeChips);
}
