using GlmSharp.Training.Layers;

namespace GlmSharp.Training;

/// <summary>
/// The glm4 decoder (GLM-4-0414 sandwich layers) with a forward pass that keeps its activations and a hand-written
/// backward pass. Per layer: a = input_layernorm(x); h = x + post_self_attn_layernorm(o_proj(attn(RoPE(q), RoPE(k), v)));
/// m = post_attention_layernorm(h); out = h + post_mlp_layernorm(down(silu(gate)·up)). Then model.norm and lm_head
/// (or the tied embedding). Buffers are sized once for <see cref="BatchSize"/> × <see cref="SeqLen"/>.
/// </summary>
public sealed class Glm4TrainingModel : ITrainingModel
{
    private readonly Glm4TrainingShape _s;
    private readonly TrainingParameters _p;
    private readonly SelfAttention _attention;
    private readonly float[][] _residuals;
    private readonly Glm4LayerActivations[] _layers;
    private readonly float[] _final;
    private readonly float[] _finalRstd;
    private readonly float[] _logits;
    private readonly float[] _dLogits;
    private readonly Glm4GradientScratch _g;
    private int[] _inputs;

    public Glm4TrainingModel(Glm4TrainingWeights weights, int batchSize, int seqLen)
    {
        _s = weights.Shape;
        TrainingBatch.CheckSize(batchSize, seqLen, _s.MaxPositions);
        Weights = weights;
        BatchSize = batchSize;
        SeqLen = seqLen;
        _p = weights.Parameters;
        _attention = new SelfAttention(_s, new TrainingRope(Kernels.RopeLayout.AdjacentPairs, _s.RotaryDims, _s.RopeTheta, seqLen), batchSize, seqLen);
        int n = Rows, h = _s.HiddenSize;
        _residuals = Enumerable.Range(0, _s.NumLayers + 1).Select(_ => new float[n * h]).ToArray();
        _layers = Enumerable.Range(0, _s.NumLayers).Select(_ => new Glm4LayerActivations(_s, batchSize, seqLen)).ToArray();
        _final = new float[n * h];
        _finalRstd = new float[n];
        _logits = new float[(long)n * _s.VocabSize];
        _dLogits = new float[(long)n * _s.VocabSize];
        _g = new Glm4GradientScratch(_s, n);
        _inputs = new int[n];
    }

    public Glm4TrainingWeights Weights { get; }
    public string Architecture => "glm4";
    public string ShapeJson => System.Text.Json.JsonSerializer.Serialize(Weights.Shape);
    public TrainingParameters Parameters => Weights.Parameters;
    public int VocabSize => _s.VocabSize;

    /// <summary>glm4 has nothing to update outside the gradient.</summary>
    public void AfterStep() { }
    public int BatchSize { get; }
    public int SeqLen { get; }
    public int Rows => BatchSize * SeqLen;

    /// <summary>Logits [rows, vocab] of the last forward pass.</summary>
    public ReadOnlySpan<float> Logits => _logits;

    /// <summary>
    /// Runs the model on <paramref name="inputs"/> (batch·seqLen token ids, row-major) and returns the mean cross-entropy
    /// against <paramref name="targets"/> (negative = not scored). Keeps what <see cref="Backward"/> needs.
    /// </summary>
    public float Forward(ReadOnlySpan<int> inputs, ReadOnlySpan<int> targets)
    {
        int n = Rows, h = _s.HiddenSize, vocab = _s.VocabSize;
        TrainingBatch.Check(inputs, targets, n, vocab);
        inputs.CopyTo(_inputs);

        Embedding.Forward(inputs, _p.Values.AsSpan(Weights.Embedding.Offset, Weights.Embedding.Length), _residuals[0], h);
        for (int l = 0; l < _s.NumLayers; l++) LayerForward(Weights.Layers[l], _layers[l], _residuals[l], _residuals[l + 1]);
        RmsNorm.Forward(_residuals[^1], Value(Weights.FinalNorm), _final, _finalRstd, n, h, Eps);
        Linear.Forward(_final, Value(Weights.LmHead), [], _logits, _g.WeightTransposed, n, h, vocab);
        return CrossEntropy.ForwardBackward(_logits, targets, _dLogits, n, vocab);
    }

    /// <summary>Adds the gradient of the last <see cref="Forward"/>'s loss to <see cref="TrainingParameters.Gradients"/>.</summary>
    public void Backward()
    {
        int n = Rows, h = _s.HiddenSize;
        var dx = _g.Residual;
        Linear.Backward(_final, Value(Weights.LmHead), _dLogits, _g.Hidden, Grad(Weights.LmHead), [],
            _g.InputTransposed, _g.WeightTransposed, n, h, _s.VocabSize, accumulateDx: false);
        RmsNorm.Backward(_residuals[^1], Value(Weights.FinalNorm), _finalRstd, _g.Hidden, dx, Grad(Weights.FinalNorm), n, h,
            accumulateDx: false);
        for (int l = _s.NumLayers - 1; l >= 0; l--) LayerBackward(Weights.Layers[l], _layers[l], _residuals[l], dx);
        Embedding.Backward(_inputs, dx, Grad(Weights.Embedding), h);
    }

    private float Eps => (float)_s.RmsNormEps;

    private void LayerForward(Glm4LayerWeights w, Glm4LayerActivations a, float[] x, float[] output)
    {
        int n = Rows, h = _s.HiddenSize, inner = _s.IntermediateSize;
        var scratch = _g.WeightTransposed;

        RmsNorm.Forward(x, Value(w.InputNorm), a.AttnIn, a.AttnInRstd, n, h, Eps);
        _attention.Forward(_p, w.Attention, a.Attention, a.AttnIn, a.AttnOut, scratch);
        RmsNorm.Forward(a.AttnOut, Value(w.PostSelfAttnNorm), a.Mid, a.AttnOutRstd, n, h, Eps);
        System.Numerics.Tensors.TensorPrimitives.Add(a.Mid, x, a.Mid);

        RmsNorm.Forward(a.Mid, Value(w.PostAttentionNorm), a.MlpIn, a.MlpInRstd, n, h, Eps);
        Linear.Forward(a.MlpIn, Value(w.GateUpProj), [], a.GateUp, scratch, n, h, 2 * inner);
        SwiGlu.Forward(a.GateUp, a.Act, n, inner);
        Linear.Forward(a.Act, Value(w.DownProj), [], a.MlpOut, scratch, n, inner, h);
        RmsNorm.Forward(a.MlpOut, Value(w.PostMlpNorm), output, a.MlpOutRstd, n, h, Eps);
        System.Numerics.Tensors.TensorPrimitives.Add(output, a.Mid, output);
    }

    /// <summary>On entry <paramref name="dx"/> holds d(output); on exit d(x).</summary>
    private void LayerBackward(Glm4LayerWeights w, Glm4LayerActivations a, float[] x, float[] dx)
    {
        int n = Rows, h = _s.HiddenSize, inner = _s.IntermediateSize;
        var xT = _g.InputTransposed;
        var wT = _g.WeightTransposed;
        var dHidden = _g.Hidden;

        // MLP half: output = mid + post_mlp_norm(down(act)); dx carries d(mid) from the residual path onwards.
        RmsNorm.Backward(a.MlpOut, Value(w.PostMlpNorm), a.MlpOutRstd, dx, dHidden, Grad(w.PostMlpNorm), n, h, accumulateDx: false);
        Linear.Backward(a.Act, Value(w.DownProj), dHidden, _g.Act, Grad(w.DownProj), [], xT, wT, n, inner, h, accumulateDx: false);
        SwiGlu.Backward(a.GateUp, _g.Act, _g.GateUp, n, inner);
        Linear.Backward(a.MlpIn, Value(w.GateUpProj), _g.GateUp, dHidden, Grad(w.GateUpProj), [], xT, wT, n, h, 2 * inner,
            accumulateDx: false);
        RmsNorm.Backward(a.Mid, Value(w.PostAttentionNorm), a.MlpInRstd, dHidden, dx, Grad(w.PostAttentionNorm), n, h,
            accumulateDx: true);

        // Attention half: mid = x + post_self_attn_norm(o_proj(context)); dx now carries d(x) through the residual.
        RmsNorm.Backward(a.AttnOut, Value(w.PostSelfAttnNorm), a.AttnOutRstd, dx, dHidden, Grad(w.PostSelfAttnNorm), n, h,
            accumulateDx: false);
        _attention.Backward(_p, w.Attention, a.Attention, a.AttnIn, dHidden, dHidden, _g.Attention);
        RmsNorm.Backward(x, Value(w.InputNorm), a.AttnInRstd, dHidden, dx, Grad(w.InputNorm), n, h, accumulateDx: true);
    }

    private Span<float> Value(TrainingParameter? p) => p is null ? [] : p.Of(_p.Values);

    private Span<float> Grad(TrainingParameter? p) => p is null ? [] : p.Of(_p.Gradients);
}
