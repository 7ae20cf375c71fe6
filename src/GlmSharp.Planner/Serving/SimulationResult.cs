namespace GlmSharp.Planner.Serving;

/// <summary>What a serving simulation measured. Rates are per chip over all chips of the deployment.</summary>
public sealed record SimulationResult
{
    public required double InputTokensPerSecondPerChip { get; init; }
    public required double OutputTokensPerSecondPerChip { get; init; }
    public required double SystemTokensPerSecond { get; init; }
    public required double TtftP50Ms { get; init; }
    public required double TtftP99Ms { get; init; }
    public required double TpotP50Ms { get; init; }
    public required double TpotP99Ms { get; init; }
    public required int Completed { get; init; }
    public required int Submitted { get; init; }
    /// <summary>Completed requests per second whose TTFT and TPOT met the SLOs (all of them when no SLO was given).</summary>
    public required double GoodputRequestsPerSecond { get; init; }
    /// <summary>The largest KV reservation seen on any pool, as a fraction of its capacity (never above 1).</summary>
    public required double PeakKvFraction { get; init; }
    /// <summary>Time-average number of requests in the system over the whole run (for Little's law: L = λW).</summary>
    public required double MeanInSystem { get; init; }
    public required double MeanLatencySeconds { get; init; }
    public required double MakespanSeconds { get; init; }
    /// <summary>How many times each request completed (the simulator asserts exactly once).</summary>
    public required IReadOnlyList<int> CompletionCounts { get; init; }
}

/// <summary>Latency targets for goodput.</summary>
public sealed record Slo(double? TtftMs, double? TpotMs);
