namespace GlmSharp.Planner.Catalog;

/// <summary>
/// One accelerator package. Peaks are dense; link bandwidths are per direction. <see cref="Family"/> groups chips whose
/// software stack behaves alike, and it is the key (with precision) of the calibrated efficiency factors.
/// </summary>
public sealed record ChipSpec
{
    public required string Id { get; init; }
    public required string Name { get; init; }
    public required string Vendor { get; init; }
    public required string Family { get; init; }
    public required string Status { get; init; }
    public required string Source { get; init; }
    public required IReadOnlyDictionary<Precision, Quantity> PeakTflops { get; init; }
    public required Quantity HbmGb { get; init; }
    public required Quantity HbmTbps { get; init; }
    public required Quantity ScaleUpGbps { get; init; }
    public Quantity? ScaleOutGbps { get; init; }
    public Quantity? TdpW { get; init; }

    public bool Supports(Precision p) => PeakTflops.ContainsKey(p);

    /// <summary>Peak FLOP/s for GEMMs in <paramref name="p"/>; attention runs at the BF16 rate where the chip has one.</summary>
    public double PeakFlops(Precision p) =>
        PeakTflops.TryGetValue(p, out var q) ? q.Value * 1e12
        : throw new PlanRequestException($"chip '{Id}' has no {p.Name()} peak in the catalog (has: {string.Join(", ", PeakTflops.Keys.Select(k => k.Name()))})");

    /// <summary>Attention math runs in BF16 on every stack we model; chips without a BF16 figure use their lowest-precision-free peak.</summary>
    public double AttentionFlops(Precision weights) =>
        PeakTflops.TryGetValue(Precision.Bf16, out var bf16) ? bf16.Value * 1e12 : PeakFlops(weights) / 2;

    public double HbmBytesPerSecond => HbmTbps.Value * 1e12;
    public double HbmBytes => HbmGb.Value * 1e9;
}
