namespace GlmSharp.Vision.Blocks;

/// <summary>
/// glm4v's learned absolute position embedding, resampled to the image's patch grid as transformers does it:
/// the [side², hidden] table viewed as a side × side image and read with torch's bicubic grid_sample
/// (align_corners = false, border padding, cubic convolution with A = −0.75) at the normalised patch centres
/// x = (col + 0.5) / gridW · 2 − 1, y = (row + 0.5) / gridH · 2 − 1, all in float32.
/// </summary>
public sealed class VisionPositionEmbedding
{
    private const float A = -0.75f;
    private readonly float[] _table;

    public int Side { get; }
    public int Hidden { get; }

    public VisionPositionEmbedding(float[] table, int side)
    {
        if (side < 1 || table.Length % (side * side) != 0)
            throw new ArgumentException($"position table of {table.Length} floats is not {side}×{side} rows");
        _table = table;
        Side = side;
        Hidden = table.Length / (side * side);
    }

    /// <summary>One embedding per patch: [patches, Hidden] for the given (row, col) patch positions of a gridH × gridW grid.</summary>
    public float[] ForPatches(ReadOnlySpan<(int Row, int Col)> positions, int gridH, int gridW)
    {
        var output = new float[positions.Length * Hidden];
        Span<float> wx = stackalloc float[4], wy = stackalloc float[4];
        Span<int> xs = stackalloc int[4], ys = stackalloc int[4];
        for (int p = 0; p < positions.Length; p++)
        {
            Taps(positions[p].Col, gridW, xs, wx);
            Taps(positions[p].Row, gridH, ys, wy);
            var dst = output.AsSpan(p * Hidden, Hidden);
            for (int j = 0; j < 4; j++)
            {
                // torch interpolates each of the four rows along x first, then the four results along y.
                for (int i = 0; i < 4; i++)
                {
                    var src = _table.AsSpan((ys[j] * Side + xs[i]) * Hidden, Hidden);
                    float w = wy[j] * wx[i];
                    for (int h = 0; h < Hidden; h++) dst[h] += w * src[h];
                }
            }
        }
        return output;
    }

    /// <summary>The four source indices (clamped to the border) and cubic weights for one patch coordinate.</summary>
    private void Taps(int index, int gridSize, Span<int> indices, Span<float> weights)
    {
        float normalised = (index + 0.5f) / gridSize * 2f - 1f;
        float source = ((normalised + 1f) * Side - 1f) / 2f;
        float floor = MathF.Floor(source);
        float t = source - floor;
        for (int k = 0; k < 4; k++) indices[k] = Math.Clamp((int)floor - 1 + k, 0, Side - 1);
        weights[0] = Far(t + 1f);
        weights[1] = Near(t);
        weights[2] = Near(1f - t);
        weights[3] = Far(2f - t);
    }

    private static float Near(float x) => ((A + 2) * x - (A + 3)) * x * x + 1;
    private static float Far(float x) => ((A * x - 5 * A) * x + 8 * A) * x - 4 * A;
}
