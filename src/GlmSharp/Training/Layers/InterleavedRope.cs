namespace GlmSharp.Training.Layers;

/// <summary>
/// glm/glm4 rotary embedding: adjacent pairs (x[2i], x[2i+1]) of the first R dims of each head rotate by
/// p·θ^(−2i/R); dims [R, head_dim) pass through. The rotation is orthogonal, so its gradient is the inverse rotation.
/// </summary>
public sealed class InterleavedRope
{
    private readonly float[] _cos;
    private readonly float[] _sin;
    private readonly int _pairs;

    public InterleavedRope(int rotaryDims, double theta, int maxPositions)
    {
        RotaryDims = rotaryDims;
        MaxPositions = maxPositions;
        _pairs = rotaryDims / 2;
        _cos = new float[maxPositions * _pairs];
        _sin = new float[maxPositions * _pairs];
        for (int i = 0; i < _pairs; i++)
        {
            // inv_freq is computed in fp32 as in transformers' default rope initialisation.
            float invFreq = (float)(1.0 / Math.Pow(theta, 2.0 * i / rotaryDims));
            for (int p = 0; p < maxPositions; p++)
            {
                float angle = p * invFreq;
                _cos[p * _pairs + i] = MathF.Cos(angle);
                _sin[p * _pairs + i] = MathF.Sin(angle);
            }
        }
    }

    public int RotaryDims { get; }
    public int MaxPositions { get; }

    /// <summary>Rotates every head of x[rows, heads·headDim] in place; row r sits at position r mod seqLen.</summary>
    public void Rotate(Span<float> x, int rows, int heads, int headDim, int seqLen) => Apply(x, rows, heads, headDim, seqLen, 1f);

    /// <summary>The transpose (= inverse) rotation, applied to gradients in the backward pass.</summary>
    public void RotateBack(Span<float> x, int rows, int heads, int headDim, int seqLen) => Apply(x, rows, heads, headDim, seqLen, -1f);

    private void Apply(Span<float> x, int rows, int heads, int headDim, int seqLen, float direction)
    {
        if (seqLen > MaxPositions)
            throw new ArgumentException($"sequence length {seqLen} exceeds the rotary table's {MaxPositions} positions");
        int width = heads * headDim;
        for (int r = 0; r < rows; r++)
        {
            int table = r % seqLen * _pairs;
            var row = x.Slice(r * width, width);
            for (int h = 0; h < heads; h++)
            {
                var head = row.Slice(h * headDim, RotaryDims);
                for (int i = 0; i < _pairs; i++)
                {
                    float c = _cos[table + i], s = direction * _sin[table + i];
                    float even = head[2 * i], odd = head[2 * i + 1];
                    head[2 * i] = even * c - odd * s;
                    head[2 * i + 1] = odd * c + even * s;
                }
            }
        }
    }
}
