using GlmSharp.Planner.Catalog;
using GlmSharp.Planner.Cost;

namespace GlmSharp.Planner.Models;

/// <summary>
/// Turns a model, a layout and a step's batch into the per-chip operator list of one pipeline stage. Dense decode costs
/// 2 FLOPs per active parameter per token; attention adds its context-dependent math; MLA decode uses weight absorption
/// (the key/value up-projections act on queries and outputs, not on the cached latent); DSA caps attended keys at top-k.
/// </summary>
public static class OperatorGraph
{
    public static List<Operator> Build(Deployment d, StepBatch b)
    {
        var m = d.Model;
        var p = d.Parallel;
        var ops = new List<Operator>();
        double wb = d.Precision.WeightBytes();
        double perStage = 1.0 / p.Pp;
        AddAttention(ops, d, b, m.Layers * perStage, m.IndexerLayers * perStage);
        AddMlp(ops, d, b, m.DenseLayers * perStage, m.MoeLayers * perStage);
        double logitsRows = b.DecodeTokens + b.PrefillCompletions;
        ops.Add(new("lm_head", OperatorKind.Gemm, 1, 2 * logitsRows * m.Hidden * m.Vocab / p.Tp, (double)m.Hidden * m.Vocab * wb / p.Tp));
        if (d.DraftTokens > 0 && m.NextNLayers > 0 && b.DecodeRequests > 0)
        {
            // Each drafted token runs the MTP block (one decoder layer) on every decoding request.
            var draft = StepBatch.Decode(b.DecodeRequests, b.DecodeKvTokens / Math.Max(1, b.DecodeTokens), 0, m.Attention.Indexer?.TopK);
            var mtp = new List<Operator>();
            AddAttention(mtp, d, draft, d.DraftTokens, m.IndexerLayers > 0 ? d.DraftTokens : 0);
            AddMlp(mtp, d, draft, m.MoeLayers > 0 ? 0 : d.DraftTokens, m.MoeLayers > 0 ? d.DraftTokens : 0);
            ops.AddRange(mtp.Select(o => o with { Name = "mtp." + o.Name }));
        }
        if (p.Pp > 1)
            ops.Add(new("pp.send", OperatorKind.PointToPoint, 1, 0, b.Tokens * m.Hidden * 2.0 / p.Tp, 2));
        return ops;
    }

    private static void AddAttention(List<Operator> ops, Deployment d, StepBatch b, double layers, double indexerLayers)
    {
        var m = d.Model;
        var a = m.Attention;
        int tp = d.Parallel.Tp;
        double wb = d.Precision.WeightBytes();
        double h = m.Hidden;
        double tokens = b.Tokens;
        if (a.Kind == AttentionKind.Gqa)
        {
            double proj = a.ProjectionParams(m.Hidden);
            ops.Add(new("attn.qkvo", OperatorKind.Gemm, layers, 2 * tokens * proj / tp, proj * wb / tp));
            // K and V heads are split across TP ranks until each rank holds one; beyond that they are replicated.
            double kvPerToken = a.KvElementsPerToken * d.KvBytes / Math.Min(tp, a.KvHeads);
            double flops = 4.0 * a.Heads * a.HeadDim * (b.AttendedTokens + b.PrefillAttendedPairs) / tp;
            ops.Add(new("attn.core", OperatorKind.AttentionMath, layers, flops, (b.AttendedTokens / (1.0 + d.DraftTokens) + b.PrefillTokens) * kvPerToken));
        }
        else
        {
            var mla = a.Mla!;
            double kvUp = (double)mla.KvLoraRank * a.Heads * (mla.QkNopeHeadDim + mla.VHeadDim);
            double other = a.ProjectionParams(m.Hidden) - a.IndexerParams(m.Hidden) - kvUp;
            // Decode absorbs W_uk/W_uv into per-token matmuls; prefill expands the latent of the whole visible context.
            double flops = 2 * tokens * other + 2 * (b.DecodeTokens + b.PrefillContextTokens) * kvUp;
            ops.Add(new("attn.mla_proj", OperatorKind.Gemm, layers, flops / tp, (other + kvUp) * wb / tp));
            double latent = mla.KvLoraRank + mla.QkRopeHeadDim;
            double decodeFlops = 2.0 * a.Heads * (latent + mla.KvLoraRank) * b.AttendedTokens;
            double prefillFlops = 2.0 * a.Heads * (mla.QkHeadDim + mla.VHeadDim) * b.PrefillAttendedPairs;
            // The latent cache is shared by all heads, so every TP rank reads all of it.
            double kvBytes = (b.AttendedTokens / (1.0 + d.DraftTokens) + b.PrefillTokens) * latent * d.KvBytes;
            ops.Add(new("attn.mla_core", OperatorKind.AttentionMath, layers, (decodeFlops + prefillFlops) / tp, kvBytes));
            if (a.Indexer is { } ix && indexerLayers > 0)
            {
                double ixParams = a.IndexerParams(m.Hidden);
                double scoring = 2.0 * ix.Heads * ix.HeadDim * (b.DecodeKvTokens + b.PrefillPairs);
                double keyBytes = (b.DecodeKvTokens / (1.0 + d.DraftTokens) + b.PrefillTokens) * a.IndexerKeyBytesPerToken;
                ops.Add(new("attn.dsa_indexer", OperatorKind.AttentionMath, indexerLayers, (2 * tokens * ixParams + scoring) / tp, ixParams * wb / tp + keyBytes));
            }
        }
        if (tp > 1) ops.Add(new("attn.allreduce", OperatorKind.AllReduce, layers, 0, tokens * h * 2, tp));
    }

    private static void AddMlp(List<Operator> ops, Deployment d, StepBatch b, double denseLayers, double moeLayers)
    {
        var m = d.Model;
        var p = d.Parallel;
        double wb = d.Precision.WeightBytes();
        double tokens = b.Tokens;
        if (denseLayers > 0)
        {
            ops.Add(new("mlp.dense", OperatorKind.Gemm, denseLayers, 2 * tokens * m.DenseMlpParams / p.Tp, m.DenseMlpParams * wb / p.Tp));
            if (p.Tp > 1) ops.Add(new("mlp.allreduce", OperatorKind.AllReduce, denseLayers, 0, tokens * m.Hidden * 2, p.Tp));
        }
        if (moeLayers <= 0 || m.Moe is not { } moe) return;
        ops.Add(new("moe.router", OperatorKind.Gemm, moeLayers, 2 * tokens * m.RouterParams / p.Tp, m.RouterParams * 4 / p.Tp));
        if (moe.SharedExperts > 0)
            ops.Add(new("moe.shared", OperatorKind.Gemm, moeLayers, 2 * tokens * m.SharedExpertParams / p.Tp, m.SharedExpertParams * wb / p.Tp));
        // Tokens of all DP ranks in the stage are routed; each expert's weights are read once if any token hits it.
        double draws = tokens * p.Dp * moe.ExpertsPerToken;
        double hitFraction = 1 - Math.Pow(1 - 1.0 / moe.RoutedExperts, draws);
        double expertBytes = moe.RoutedExperts * m.ExpertParams * wb / p.ChipsPerStage * hitFraction;
        // The step waits for the busiest chip: measured popularity skew times the routing fluctuation of this batch.
        double skew = d.ExpertImbalance * ExpertLoad.BusiestChipFactor(draws / p.Ep, p.Ep);
        double expertFlops = 2 * tokens * moe.ExpertsPerToken * m.ExpertParams / p.Tp * skew;
        ops.Add(new("moe.experts", OperatorKind.Gemm, moeLayers, expertFlops, expertBytes));
        if (p.Ep > 1)
        {
            double perChipTokens = tokens / p.Tp;
            ops.Add(new("moe.dispatch", OperatorKind.AllToAll, moeLayers, 0, perChipTokens * m.Hidden * d.Precision.DispatchBytes(), p.Ep) { Skew = skew, Tokens = perChipTokens });
            ops.Add(new("moe.combine", OperatorKind.AllToAll, moeLayers, 0, perChipTokens * m.Hidden * 2.0, p.Ep) { Skew = skew, Tokens = perChipTokens });
        }
        else if (p.Tp > 1)
        {
            ops.Add(new("moe.allreduce", OperatorKind.AllReduce, moeLayers, 0, tokens * m.Hidden * 2, p.Tp));
        }
    }
}
