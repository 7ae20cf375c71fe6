namespace GlmSharp.Vision.Blocks;

/// <summary>
/// The 2-D rotary embedding inside glm4v's vision attention. A head of D dims has D/2 angles: the first D/4 are the
/// patch row times inv_freq[k] = theta^(−2k / (D/2)), the next D/4 the patch column times the same frequencies.
/// They rotate NeoX-style over the whole head, pairing dim j with j + D/2 (llama.cpp: ggml_rope_multi in vision mode
/// with four sections of D/4 and positions [row, col, row, col]).
/// </summary>
public sealed class VisionRope2D
{
    private readonly float[] _inverseFrequencies;

    public int HeadDim { get; }

    public VisionRope2D(int headDim, double theta = 10000)
    {
        if (headDim < 4 || headDim % 4 != 0) throw new ArgumentOutOfRangeException(nameof(headDim), headDim, "head size must be a positive multiple of 4");
        HeadDim = headDim;
        int quarter = headDim / 4;
        _inverseFrequencies = new float[quarter];
        // float32 as transformers computes it: 1 / theta^(arange(0, D/2, 2) / (D/2)).
        for (int k = 0; k < quarter; k++) _inverseFrequencies[k] = 1f / MathF.Pow((float)theta, 2f * k / (headDim / 2));
    }

    /// <summary>cos and sin of the D/2 angles for a patch at (row, col).</summary>
    public void Angles(int row, int col, Span<float> cos, Span<float> sin)
    {
        int quarter = HeadDim / 4;
        for (int k = 0; k < quarter; k++)
        {
            float rowAngle = row * _inverseFrequencies[k], colAngle = col * _inverseFrequencies[k];
            (cos[k], sin[k]) = (MathF.Cos(rowAngle), MathF.Sin(rowAngle));
            (cos[quarter + k], sin[quarter + k]) = (MathF.Cos(colAngle), MathF.Sin(colAngle));
        }
    }

    /// <summary>Rotates one head vector of a patch at (row, col) in place.</summary>
    public void Apply(Span<float> head, int row, int col)
    {
        Span<float> cos = stackalloc float[HeadDim / 2], sin = stackalloc float[HeadDim / 2];
        Angles(row, col, cos, sin);
        Rotate(head, cos, sin);
    }

    /// <summary>Rotates one head vector by a patch's angles from <see cref="Angles"/>, shared by every head and layer.</summary>
    public void Rotate(Span<float> head, ReadOnlySpan<float> cos, ReadOnlySpan<float> sin)
    {
        int half = HeadDim / 2;
        for (int j = 0; j < half; j++)
        {
            float x0 = head[j], x1 = head[j + half];
            head[j] = x0 * cos[j] - x1 * sin[j];
            head[j + half] = x1 * cos[j] + x0 * sin[j];
        }
    }
}
