using GlmSharp.Planner.Catalog;

namespace GlmSharp.Planner.Cost;

/// <summary>
/// HBM per chip: weights (attention replicated over DP ranks, experts spread over the stage), KV cache, and a reserve for
/// activations and runtime buffers. A layout fits when weights + KV + reserve stay within HBM.
/// </summary>
public static class MemoryModel
{
    /// <summary>Share of HBM held back for activations, graphs and allocator slack.</summary>
    public const double ReserveFraction = 0.10;

    public static double WeightBytesPerChip(Deployment d)
    {
        var m = d.Model;
        var p = d.Parallel;
        double wb = d.Precision.WeightBytes();
        double perLayerReplicated = (m.AttentionParams + m.DenseLayers * m.DenseMlpParams + m.MoeLayers * (m.SharedExpertParams + m.RouterParams)) / p.Tp;
        double experts = m.MoeLayers * (m.Moe?.RoutedExperts ?? 0) * m.ExpertParams / p.ChipsPerStage;
        double embeddings = m.EmbeddingParams / p.Tp;
        double mtp = m.NextNLayers * (m.Attention.ProjectionParams(m.Hidden) + (m.Moe is null ? m.DenseMlpParams : m.Moe.RoutedExperts * m.ExpertParams / p.ChipsPerStage * p.Tp)) / p.Tp;
        return ((perLayerReplicated + experts) / p.Pp + embeddings + (d.DraftTokens > 0 ? mtp : 0)) * wb;
    }

    /// <summary>KV bytes one token of context occupies on one chip (its layers only; MLA latents are not split by TP).</summary>
    public static double KvBytesPerTokenPerChip(Deployment d)
    {
        var a = d.Model.Attention;
        double split = a.Kind == Models.AttentionKind.Gqa ? Math.Min(d.Parallel.Tp, a.KvHeads) : 1;
        return d.Model.KvBytesPerToken(d.KvBytes) / split / d.Parallel.Pp;
    }

    public static double UsableBytes(Deployment d) => d.Chip.HbmBytes * (1 - ReserveFraction);

    /// <summary>Tokens of context that fit in each chip's KV space after weights (0 when the weights alone do not fit).</summary>
    public static double KvTokenCapacityPerChip(Deployment d) =>
        Math.Max(0, (UsableBytes(d) - WeightBytesPerChip(d)) / KvBytesPerTokenPerChip(d));

    /// <summary>Requests per chip that fit at a context length: a DP rank's requests live on its TP×PP chips.</summary>
    public static int MaxBatchPerChip(Deployment d, double contextTokens) =>
        (int)Math.Floor(KvTokenCapacityPerChip(d) / contextTokens / (d.Parallel.Tp * d.Parallel.Pp));

    public static double BytesPerChip(Deployment d, double kvTokensPerChip) => WeightBytesPerChip(d) + kvTokensPerChip * KvBytesPerTokenPerChip(d);
}
