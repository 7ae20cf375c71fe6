using GlmSharp.Kernels;

namespace GlmSharp.Training.Layers;

/// <summary>
/// Rotary embedding for training: the engine's <see cref="RopeTable"/> in the model's pair layout (adjacent pairs for
/// glm/glm4, split halves for glm4_moe), so the trainer rotates by the same angles as inference. Its cos/sin are
/// computed once per position of the training window. The rotation is orthogonal, so its gradient is the inverse rotation.
/// </summary>
public sealed class TrainingRope
{
    private readonly RopeTable _table;
    private readonly float[] _cos;
    private readonly float[] _sin;
    private readonly int _pairs;

    public TrainingRope(RopeLayout layout, int rotaryDims, double theta, int maxPositions)
    {
        _table = new RopeTable(layout, rotaryDims, theta);
        MaxPositions = maxPositions;
        _pairs = rotaryDims / 2;
        _cos = new float[maxPositions * _pairs];
        _sin = new float[maxPositions * _pairs];
        for (int p = 0; p < maxPositions; p++)
            _table.Angles(p, _cos.AsSpan(p * _pairs, _pairs), _sin.AsSpan(p * _pairs, _pairs));
    }

    public int RotaryDims => _table.RotaryDims;
    public int MaxPositions { get; }

    /// <summary>Rotates every head of x[rows, heads·headDim] in place; row r sits at position r mod seqLen.</summary>
    public void Rotate(Span<float> x, int rows, int heads, int headDim, int seqLen) => Apply(x, rows, heads, headDim, seqLen, inverse: false);

    /// <summary>The transpose (= inverse) rotation, applied to gradients in the backward pass.</summary>
    public void RotateBack(Span<float> x, int rows, int heads, int headDim, int seqLen) => Apply(x, rows, heads, headDim, seqLen, inverse: true);

    private void Apply(Span<float> x, int rows, int heads, int headDim, int seqLen, bool inverse)
    {
        if (seqLen > MaxPositions)
            throw new ArgumentException($"sequence length {seqLen} exceeds the rotary table's {MaxPositions} positions");
        int width = heads * headDim;
        for (int r = 0; r < rows; r++)
        {
            var cos = new ReadOnlySpan<float>(_cos, r % seqLen * _pairs, _pairs);
            var sin = new ReadOnlySpan<float>(_sin, r % seqLen * _pairs, _pairs);
            var row = x.Slice(r * width, width);
            for (int h = 0; h < heads; h++)
            {
                var head = row.Slice(h * headDim, headDim);
                if (inverse) _table.ApplyInverse(head, cos, sin);
                else _table.Apply(head, cos, sin);
            }
        }
    }
}
