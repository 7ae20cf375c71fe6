namespace GlmSharp.Planner.Catalog;

internal static class ChipReader
{
    public static ChipSpec Read(CatalogRecord r)
    {
        var peaks = new Dictionary<Precision, Quantity>();
        foreach (var (name, q) in r.QuantityMap("peak_tflops"))
        {
            if (name == "fp32") continue;
            Precision p;
            try { p = Precisions.Parse(name, r.Origin); }
            catch (CatalogFormatException) { throw r.Fail($"peak_tflops.{name}", "is not a known precision (bf16, fp8, int8, fp4)"); }
            peaks[p] = q;
        }
        if (peaks.Count == 0) throw r.Fail("peak_tflops", "must give at least one of bf16, fp8, int8, fp4");
        var chip = new ChipSpec
        {
            Id = r.Id,
            Name = r.OptString("name") ?? r.Id,
            Vendor = r.OptString("vendor") ?? "unknown",
            Family = r.String("family"),
            Status = r.Status,
            Source = r.Source,
            PeakTflops = peaks,
            HbmGb = r.Quantity("hbm_gb"),
            HbmTbps = r.Quantity("hbm_tbps"),
            ScaleUpGbps = r.Quantity("scale_up_gbps"),
            ScaleOutGbps = r.OptQuantity("scale_out_gbps"),
            TdpW = r.OptQuantity("tdp_w"),
        };
        if (chip.HbmGb.Value <= 0) throw r.Fail("hbm_gb", "must be positive");
        if (chip.HbmTbps.Value <= 0) throw r.Fail("hbm_tbps", "must be positive");
        if (chip.ScaleUpGbps.Value <= 0) throw r.Fail("scale_up_gbps", "must be positive");
        return chip;
    }
}

internal static class SystemReader
{
    public static SystemSpec Read(CatalogRecord r, IReadOnlyDictionary<string, ChipSpec> chips)
    {
        string chipId = r.String("chip");
        if (!chips.TryGetValue(chipId, out var chip)) throw r.Fail("chip", $"names unknown chip '{chipId}'");
        int? max = r.OptInt("chips");
        int domain = r.Int("scale_up_domain");
        if (domain < 1) throw r.Fail("scale_up_domain", "must be at least 1");
        if (max is { } m && (m < 1 || domain > m)) throw r.Fail("scale_up_domain", $"is {domain}, larger than the system's {m} chips");
        return new SystemSpec
        {
            Id = r.Id,
            Name = r.OptString("name") ?? r.Id,
            Chip = chip,
            MaxChips = max,
            ScaleUpDomain = domain,
            ScaleUpLatencyUs = r.OptQuantity("scale_up_latency_us") ?? new Quantity(3, "assumed", "planner default"),
            ScaleOutLatencyUs = r.OptQuantity("scale_out_latency_us") ?? new Quantity(8, "assumed", "planner default"),
            Status = r.Status,
            Source = r.Source,
            Claimed = r.QuantityMap("claimed"),
        };
    }
}
