namespace GlmSharp.Training.Layers;

/// <summary>The attention projections of one layer; the biases are absent when the model has none.</summary>
public sealed record AttentionWeights(
    TrainingParameter QProj, TrainingParameter? QBias,
    TrainingParameter KProj, TrainingParameter? KBias,
    TrainingParameter VProj, TrainingParameter? VBias,
    TrainingParameter OProj);

/// <summary>What one layer's attention keeps for its backward pass; N = batch·seqLen rows.</summary>
public sealed class AttentionActivations(Glm4TrainingShape s, int batch, int seqLen)
{
    public float[] Q { get; } = new float[batch * seqLen * s.QueryWidth];          // after bias and RoPE
    public float[] K { get; } = new float[batch * seqLen * s.KeyValueWidth];       // after bias and RoPE
    public float[] V { get; } = new float[batch * seqLen * s.KeyValueWidth];
    public float[] Probs { get; } = new float[(long)batch * s.NumHeads * seqLen * seqLen];
    public float[] Context { get; } = new float[batch * seqLen * s.QueryWidth];   // attention output before o_proj
}

/// <summary>
/// The attention sublayer GLM's decoders share in training: out = o_proj(attention(RoPE(q), RoPE(k), v)) with q, k, v
/// projected (with bias when present) from the normed input, causal over each sequence of the batch, grouped-query.
/// </summary>
public sealed class SelfAttention(Glm4TrainingShape shape, TrainingRope rope, int batch, int seqLen)
{
    private int Rows => batch * seqLen;

    /// <param name="scratch">At least the largest projection's in·out values.</param>
    public void Forward(TrainingParameters p, AttentionWeights w, AttentionActivations a, ReadOnlySpan<float> input, Span<float> output, Span<float> scratch)
    {
        int n = Rows, h = shape.HiddenSize, qw = shape.QueryWidth, kvw = shape.KeyValueWidth;
        Linear.Forward(input, Value(p, w.QProj), Value(p, w.QBias), a.Q, scratch, n, h, qw);
        Linear.Forward(input, Value(p, w.KProj), Value(p, w.KBias), a.K, scratch, n, h, kvw);
        Linear.Forward(input, Value(p, w.VProj), Value(p, w.VBias), a.V, scratch, n, h, kvw);
        rope.Rotate(a.Q, n, shape.NumHeads, shape.HeadDim, seqLen);
        rope.Rotate(a.K, n, shape.NumKvHeads, shape.HeadDim, seqLen);
        CausalGqaAttention.Forward(a.Q, a.K, a.V, a.Probs, a.Context, batch, seqLen, shape.NumHeads, shape.NumKvHeads, shape.HeadDim);
        Linear.Forward(a.Context, Value(p, w.OProj), [], output, scratch, n, qw, h);
    }

    /// <summary>Writes d(input) for d(output), adding the weights' gradients; both may be one buffer (d(output) is read first).</summary>
    public void Backward(TrainingParameters p, AttentionWeights w, AttentionActivations a, ReadOnlySpan<float> input,
        ReadOnlySpan<float> dOutput, Span<float> dInput, AttentionGradients g)
    {
        int n = Rows, h = shape.HiddenSize, qw = shape.QueryWidth, kvw = shape.KeyValueWidth;
        Linear.Backward(a.Context, Value(p, w.OProj), dOutput, g.Context, Grad(p, w.OProj), [], g.InputTransposed, g.WeightTransposed, n, qw, h, accumulateDx: false);
        CausalGqaAttention.Backward(a.Q, a.K, a.V, a.Probs, g.Context, g.Q, g.K, g.V, batch, seqLen, shape.NumHeads, shape.NumKvHeads, shape.HeadDim);
        rope.RotateBack(g.Q, n, shape.NumHeads, shape.HeadDim, seqLen);
        rope.RotateBack(g.K, n, shape.NumKvHeads, shape.HeadDim, seqLen);
        Linear.Backward(input, Value(p, w.QProj), g.Q, dInput, Grad(p, w.QProj), Grad(p, w.QBias), g.InputTransposed, g.WeightTransposed, n, h, qw, accumulateDx: false);
        Linear.Backward(input, Value(p, w.KProj), g.K, dInput, Grad(p, w.KProj), Grad(p, w.KBias), g.InputTransposed, g.WeightTransposed, n, h, kvw, accumulateDx: true);
        Linear.Backward(input, Value(p, w.VProj), g.V, dInput, Grad(p, w.VProj), Grad(p, w.VBias), g.InputTransposed, g.WeightTransposed, n, h, kvw, accumulateDx: true);
    }

    private static Span<float> Value(TrainingParameters p, TrainingParameter? t) => t is null ? [] : t.Of(p.Values);

    private static Span<float> Grad(TrainingParameters p, TrainingParameter? t) => t is null ? [] : t.Of(p.Gradients);
}

/// <summary>Gradient buffers of the attention sublayer, shared by every layer of a backward pass.</summary>
public sealed class AttentionGradients(Glm4TrainingShape s, int rows, float[] inputTransposed, float[] weightTransposed)
{
    public float[] Q { get; } = new float[rows * s.QueryWidth];
    public float[] K { get; } = new float[rows * s.KeyValueWidth];
    public float[] V { get; } = new float[rows * s.KeyValueWidth];
    public float[] Context { get; } = new float[rows * s.QueryWidth];
    public float[] InputTransposed { get; } = inputTransposed;
    public float[] WeightTransposed { get; } = weightTransposed;
}
