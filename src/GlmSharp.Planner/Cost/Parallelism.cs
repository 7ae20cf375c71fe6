using GlmSharp.Planner.Catalog;
using GlmSharp.Planner.Models;

namespace GlmSharp.Planner.Cost;

/// <summary>
/// How one model replica is laid out: attention is split TP ways and replicated DP ways (DP attention), layers are cut
/// into PP stages, and each stage's experts are spread over EP of its TP×DP chips (the rest split experts by tensor).
/// </summary>
public sealed record Parallelism(int Tp, int Pp, int Ep, int Dp)
{
    public int Chips => Tp * Pp * Dp;
    public int ChipsPerStage => Tp * Dp;
    public int ExpertTp => ChipsPerStage / Ep;

    public static readonly Parallelism Single = new(1, 1, 1, 1);

    public void Check(ModelShape model)
    {
        if (Tp < 1 || Pp < 1 || Ep < 1 || Dp < 1) throw new PlanRequestException($"parallel sizes must be >= 1 (tp {Tp}, pp {Pp}, ep {Ep}, dp {Dp})");
        if (ChipsPerStage % Ep != 0) throw new PlanRequestException($"ep {Ep} must divide tp×dp = {ChipsPerStage}");
        if (model.Moe is null && Ep > 1) throw new PlanRequestException($"model '{model.Id}' has no experts; ep must be 1");
        if (Pp > model.Layers) throw new PlanRequestException($"pp {Pp} exceeds the model's {model.Layers} layers");
        if (Tp > model.Attention.Heads) throw new PlanRequestException($"tp {Tp} exceeds the model's {model.Attention.Heads} attention heads");
    }

    public override string ToString() => $"tp{Tp} pp{Pp} ep{Ep} dp{Dp}";
}

/// <summary>A model on a system in one precision and layout; the unit the cost model prices.</summary>
public sealed record Deployment
{
    public required ModelShape Model { get; init; }
    public required SystemSpec System { get; init; }
    public required Precision Precision { get; init; }
    public required Parallelism Parallel { get; init; }

    /// <summary>Bytes per KV-cache element (2 for BF16, 1 for an FP8/INT8 cache).</summary>
    public double KvBytes { get; init; } = 2;

    /// <summary>Hide communication behind computation (two-batch overlap, micro-batch pipelining).</summary>
    public bool Overlap { get; init; } = true;

    /// <summary>Token load of the busiest expert relative to the mean; 1 means perfect balance.</summary>
    public double ExpertImbalance { get; init; } = 1.0;

    /// <summary>Tokens drafted per decode step by MTP (0 = off).</summary>
    public int DraftTokens { get; init; }

    public ChipSpec Chip => System.Chip;

    public void Check()
    {
        Parallel.Check(Model);
        Chip.PeakFlops(Precision);
        if (System.MaxChips is { } max && Parallel.Chips > max)
            throw new PlanRequestException($"{Parallel} needs {Parallel.Chips} chips; system '{System.Id}' has {max}");
    }
}
