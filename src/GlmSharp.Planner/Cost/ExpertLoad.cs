namespace GlmSharp.Planner.Cost;

/// <summary>
/// Load of the busiest expert-parallel chip relative to the mean from routing alone: with μ (token, expert) pairs per chip
/// on average, the counts are close to Poisson, and the largest of n such counts is about μ + √(2 μ ln n). Small decode
/// batches over many chips feel this; prefill's large batches do not. Skew in which experts are popular (what EPLB
/// corrects) is a separate, measured factor.
/// </summary>
public static class ExpertLoad
{
    public static double BusiestChipFactor(double pairsPerChip, int ep) =>
        ep <= 1 || pairsPerChip <= 0 ? 1 : 1 + Math.Sqrt(2 * Math.Log(ep) / pairsPerChip);
}
