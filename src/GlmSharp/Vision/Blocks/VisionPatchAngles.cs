namespace GlmSharp.Vision.Blocks;

/// <summary>cos and sin of every patch's 2-D RoPE angles ([patches, headDim / 2] each), computed once per image for all heads and layers.</summary>
public sealed class VisionPatchAngles
{
    private readonly float[] _cos, _sin;
    private readonly int _half;

    public VisionRope2D Rope { get; }

    public VisionPatchAngles(VisionRope2D rope, ReadOnlySpan<(int Row, int Col)> positions)
    {
        Rope = rope;
        _half = rope.HeadDim / 2;
        _cos = new float[positions.Length * _half];
        _sin = new float[positions.Length * _half];
        for (int p = 0; p < positions.Length; p++)
            rope.Angles(positions[p].Row, positions[p].Col, _cos.AsSpan(p * _half, _half), _sin.AsSpan(p * _half, _half));
    }

    /// <summary>Rotates every head of patch <paramref name="patch"/>'s row ([heads · headDim]) in place.</summary>
    public void Rotate(Span<float> row, int patch)
    {
        var cos = _cos.AsSpan(patch * _half, _half);
        var sin = _sin.AsSpan(patch * _half, _half);
        for (int start = 0; start < row.Length; start += Rope.HeadDim) Rope.Rotate(row.Slice(start, Rope.HeadDim), cos, sin);
    }
}
