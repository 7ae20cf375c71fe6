namespace GlmSharp.Planner.Models;

public enum OperatorKind { Gemm, AttentionMath, AllReduce, AllToAll, PointToPoint }

/// <summary>
/// One operator of one layer, per chip, for one engine step: FLOPs and HBM bytes (weights + KV + large activations),
/// or for collectives the bytes each chip sends over a group of <see cref="GroupSize"/> chips.
/// <see cref="Count"/> is how many layers on this chip run it. An expert all-to-all's bytes are its <see cref="Tokens"/>'
/// payload, each token once; the cost model fans them out to the model's top-k experts.
/// </summary>
public sealed record Operator(string Name, OperatorKind Kind, double Count, double Flops, double Bytes, int GroupSize = 1)
{
    /// <summary>Load of the busiest chip relative to the mean, for expert all-to-alls (it receives that much more).</summary>
    public double Skew { get; init; } = 1;

    /// <summary>Tokens an expert all-to-all sends from each chip.</summary>
    public double Tokens { get; init; }

    public bool IsCommunication => Kind is OperatorKind.AllReduce or OperatorKind.AllToAll or OperatorKind.PointToPoint;
}
