using GlmSharp.Planner.Catalog;

namespace GlmSharp.Planner.Serving;

/// <summary>A length distribution: a fixed value or uniform over [Min, Max].</summary>
public sealed record LengthDistribution(int Min, int Max)
{
    public double Mean => (Min + Max) / 2.0;

    public int Sample(Random rng) => Min == Max ? Min : rng.Next(Min, Max + 1);

    /// <summary>"1024" or "512:2048".</summary>
    public static LengthDistribution Parse(string text, string option)
    {
        var parts = text.Split(':');
        if (parts.Length is < 1 or > 2 || !parts.All(p => int.TryParse(p, out int v) && v > 0))
            throw new PlanRequestException($"{option}: '{text}' must be a positive length N or a range MIN:MAX");
        int a = int.Parse(parts[0]), b = int.Parse(parts[^1]);
        if (b < a) throw new PlanRequestException($"{option}: range '{text}' has MAX < MIN");
        return new LengthDistribution(a, b);
    }

    public static LengthDistribution Fixed(int n) => new(n, n);
}

public enum ArrivalKind { Poisson, ClosedLoop, Offline }

/// <summary>
/// Requests offered to the system: Poisson arrivals at <see cref="RatePerSecond"/>, a closed loop that keeps
/// <see cref="Concurrency"/> requests in flight, or <see cref="Requests"/> submitted at once (offline benchmark).
/// </summary>
public sealed record Workload
{
    public required LengthDistribution Input { get; init; }
    public required LengthDistribution Output { get; init; }
    public required ArrivalKind Arrivals { get; init; }
    public double RatePerSecond { get; init; }
    public int Concurrency { get; init; }
    public int Requests { get; init; } = 2000;
    public int Seed { get; init; } = 1;
}
