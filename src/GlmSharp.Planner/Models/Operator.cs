namespace GlmSharp.Planner.Models;

public enum OperatorKind { Gemm, AttentionMath, AllReduce, AllToAll, PointToPoint }

/// <summary>
/// One operator of one layer, per chip, for one engine step: FLOPs and HBM bytes (weights + KV + large activations),
/// or for collectives the bytes each chip sends over a group of <see cref="GroupSize"/> chips.
/// <see cref="Count"/> is how many layers on this chip run it.
/// </summary>
public sealed record Operator(string Name, OperatorKind Kind, double Count, double Flops, double Bytes, int GroupSize = 1)
{
    public bool IsCommunication => Kind is OperatorKind.AllReduce or OperatorKind.AllToAll or OperatorKind.PointToPoint;
}
