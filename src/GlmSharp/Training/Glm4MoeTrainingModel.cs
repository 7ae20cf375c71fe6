using GlmSharp.Kernels;
using GlmSharp.Training.Layers;

namespace GlmSharp.Training;

/// <summary>
/// The glm4_moe decoder (GLM-4.5) with a forward pass that keeps its activations and a hand-written backward pass.
/// Per layer, pre-norm: h = x + attn(input_layernorm(x)) with split-half partial RoPE; out = h + FFN(post_attention_layernorm(h)),
/// FFN a SwiGLU in the first first_k_dense_replace layers and routed experts plus the shared experts after them.
/// Then model.norm and lm_head. After each forward pass <see cref="BalanceRouters"/> moves the routers' selection biases.
/// </summary>
public sealed class Glm4MoeTrainingModel : ITrainingModel
{
    private readonly Glm4MoeTrainingShape _s;
    private readonly TrainingParameters _p;
    private readonly SelfAttention _attention;
    private readonly float[][] _residuals;
    private readonly MoeLayerActivations[] _layers;
    private readonly float[] _final, _finalRstd, _logits, _dLogits;
    private readonly float[] _dResidual, _dHidden, _dAct, _dGateUp, _inputTransposed, _weightTransposed;
    private readonly AttentionGradients _attentionGradients;
    private readonly int[] _inputs;
    private readonly MtpActivations? _mtp;

    /// <param name="mtpLossWeight">λ of the multi-token-prediction loss, added to the main loss for the gradient (DeepSeek-V3 trains with 0.1–0.3).</param>
    /// <param name="biasUpdateRate">How far <see cref="AfterStep"/> moves each selection bias (DeepSeek-V3's γ, 0.001).</param>
    public Glm4MoeTrainingModel(Glm4MoeTrainingWeights weights, int batchSize, int seqLen, float mtpLossWeight = 0.3f, float biasUpdateRate = 1e-3f)
    {
        _s = weights.Shape;
        var a = _s.Attention;
        TrainingBatch.CheckSize(batchSize, seqLen, a.MaxPositions);
        Weights = weights;
        BatchSize = batchSize;
        SeqLen = seqLen;
        _p = weights.Parameters;
        _attention = new SelfAttention(a, new TrainingRope(RopeLayout.SplitHalves, a.RotaryDims, a.RopeTheta, seqLen), batchSize, seqLen);
        int n = Rows, h = _s.HiddenSize;
        _residuals = Enumerable.Range(0, _s.NumLayers + 1).Select(_ => new float[n * h]).ToArray();
        _layers = Enumerable.Range(0, _s.NumLayers).Select(l => new MoeLayerActivations(_s, l, batchSize, seqLen)).ToArray();
        _final = new float[n * h];
        _finalRstd = new float[n];
        _logits = new float[(long)n * _s.VocabSize];
        _dLogits = new float[(long)n * _s.VocabSize];
        int inner = Math.Max(Math.Max(a.IntermediateSize, _s.SharedIntermediateSize), 1);
        _dResidual = new float[n * h];
        _dHidden = new float[n * h];
        _dAct = new float[n * inner];
        _dGateUp = new float[n * 2 * inner];
        // The widest input of a matrix product: the NextN projection reads [embedding; hidden] rows of 2·hidden.
        _inputTransposed = new float[n * Math.Max(Math.Max(2 * h, a.QueryWidth), inner)];
        _weightTransposed = new float[Math.Max(Math.Max((long)_s.VocabSize * h, 2L * inner * h), (long)a.QueryWidth * h)];
        _attentionGradients = new AttentionGradients(a, n, _inputTransposed, _weightTransposed);
        _inputs = new int[n];
        MtpLossWeight = mtpLossWeight;
        BiasUpdateRate = biasUpdateRate;
        if (weights.Mtp is not null) _mtp = new MtpActivations(_s, batchSize, seqLen);
    }

    public float MtpLossWeight { get; }
    public float BiasUpdateRate { get; }
    public string Architecture => "glm4_moe";
    public string ShapeJson => System.Text.Json.JsonSerializer.Serialize(Weights.Shape);
    public TrainingParameters Parameters => Weights.Parameters;
    public int VocabSize => _s.VocabSize;

    public void AfterStep() => BalanceRouters(BiasUpdateRate);

    /// <summary>The multi-token-prediction loss of the last forward pass (NaN without the layer).</summary>
    public float MtpLoss { get; private set; } = float.NaN;

    public Glm4MoeTrainingWeights Weights { get; }
    public int BatchSize { get; }
    public int SeqLen { get; }
    public int Rows => BatchSize * SeqLen;

    /// <summary>Logits [rows, vocab] of the last forward pass.</summary>
    public ReadOnlySpan<float> Logits => _logits;

    /// <summary>The main model's hidden states after its final norm [rows, hidden], what the NextN layer reads.</summary>
    public ReadOnlySpan<float> FinalHidden => _final;

    /// <summary>The NextN layer's logits [rows, vocab] of the last forward pass (row p predicts t_{p+2}); empty without the layer.</summary>
    public ReadOnlySpan<float> MtpLogits => _mtp is null ? [] : _mtp.Logits;

    /// <summary>
    /// The routed experts of layer <paramref name="layer"/> (null for a dense layer; layer num_hidden_layers is the NextN
    /// layer), with the last pass's choice and load.
    /// </summary>
    public RoutedExperts? ExpertsOf(int layer) => layer == _s.NumLayers ? _mtp?.Layer.Routed : _layers[layer].Routed;

    /// <summary>
    /// Runs the model on <paramref name="inputs"/> (batch·seqLen token ids) and returns the mean cross-entropy against
    /// <paramref name="targets"/> (negative = not scored). Keeps what <see cref="Backward"/> needs.
    /// </summary>
    public float Forward(ReadOnlySpan<int> inputs, ReadOnlySpan<int> targets)
    {
        int n = Rows, h = _s.HiddenSize, vocab = _s.VocabSize;
        TrainingBatch.Check(inputs, targets, n, vocab);
        inputs.CopyTo(_inputs);

        Embedding.Forward(inputs, Value(Weights.Embedding), _residuals[0], h);
        for (int l = 0; l < _s.NumLayers; l++) LayerForward(Weights.Layers[l], _layers[l], _residuals[l], _residuals[l + 1]);
        RmsNorm.Forward(_residuals[^1], Value(Weights.FinalNorm), _final, _finalRstd, n, h, Eps);
        Linear.Forward(_final, Value(Weights.LmHead), [], _logits, _weightTransposed, n, h, vocab);
        float loss = CrossEntropy.ForwardBackward(_logits, targets, _dLogits, n, vocab);
        if (_mtp is not null) MtpForward(Weights.Mtp!, _mtp, inputs, targets);
        return loss;
    }

    /// <summary>
    /// Row p: z = NextN layer(eh_proj([enorm(embed(t_{p+1})); hnorm(h_p)])) predicts t_{p+2} through shared_head.norm and
    /// the main head; h_p is the main model's hidden state after its final norm, as inference feeds it. The last row of
    /// each sequence has no t_{p+1} and is not scored.
    /// </summary>
    private void MtpForward(MtpWeights w, MtpActivations m, ReadOnlySpan<int> inputs, ReadOnlySpan<int> targets)
    {
        int n = Rows, h = _s.HiddenSize, vocab = _s.VocabSize;
        for (int r = 0; r < n; r++)
        {
            bool last = r % SeqLen == SeqLen - 1;
            m.NextTokens[r] = last ? inputs[r] : inputs[r + 1];
            m.Targets[r] = last ? -1 : targets[r + 1];
        }
        Embedding.Forward(m.NextTokens, Value(Weights.Embedding), m.Embedded, h);
        RmsNorm.Forward(m.Embedded, Value(w.EmbeddingNorm), m.EmbeddedNormed, m.EmbeddedRstd, n, h, Eps);
        RmsNorm.Forward(_final, Value(w.HiddenNorm), m.HiddenNormed, m.HiddenRstd, n, h, Eps);
        for (int r = 0; r < n; r++)
        {
            m.EmbeddedNormed.AsSpan(r * h, h).CopyTo(m.Joined.AsSpan(2 * r * h, h));
            m.HiddenNormed.AsSpan(r * h, h).CopyTo(m.Joined.AsSpan((2 * r + 1) * h, h));
        }
        Linear.Forward(m.Joined, Value(w.Projection), [], m.LayerIn, _weightTransposed, n, 2 * h, h);
        LayerForward(w.Layer, m.Layer, m.LayerIn, m.LayerOut);
        RmsNorm.Forward(m.LayerOut, Value(w.HeadNorm), m.HeadIn, m.HeadRstd, n, h, Eps);
        Linear.Forward(m.HeadIn, Value(Weights.LmHead), [], m.Logits, _weightTransposed, n, h, vocab);
        MtpLoss = CrossEntropy.ForwardBackward(m.Logits, m.Targets, m.DLogits, n, vocab);
        System.Numerics.Tensors.TensorPrimitives.Multiply(m.DLogits, MtpLossWeight, m.DLogits);
    }

    /// <summary>Adds the gradients of λ·(the multi-token-prediction loss) and writes its part of d(h_p) to <see cref="MtpActivations.DFinal"/>.</summary>
    private void MtpBackward(MtpWeights w, MtpActivations m)
    {
        int n = Rows, h = _s.HiddenSize;
        Linear.Backward(m.HeadIn, Value(Weights.LmHead), m.DLogits, _dHidden, Grad(Weights.LmHead), [],
            _inputTransposed, _weightTransposed, n, h, _s.VocabSize, accumulateDx: false);
        RmsNorm.Backward(m.LayerOut, Value(w.HeadNorm), m.HeadRstd, _dHidden, m.DLayer, Grad(w.HeadNorm), n, h, accumulateDx: false);
        LayerBackward(w.Layer, m.Layer, m.LayerIn, m.DLayer);
        Linear.Backward(m.Joined, Value(w.Projection), m.DLayer, m.DJoined, Grad(w.Projection), [], _inputTransposed, _weightTransposed, n, 2 * h, h, accumulateDx: false);
        for (int r = 0; r < n; r++)
        {
            m.DJoined.AsSpan(2 * r * h, h).CopyTo(m.DEmbeddedNormed.AsSpan(r * h, h));
            m.DJoined.AsSpan((2 * r + 1) * h, h).CopyTo(m.DHiddenNormed.AsSpan(r * h, h));
        }
        RmsNorm.Backward(m.Embedded, Value(w.EmbeddingNorm), m.EmbeddedRstd, m.DEmbeddedNormed, m.DEmbedded, Grad(w.EmbeddingNorm), n, h, accumulateDx: false);
        Embedding.Backward(m.NextTokens, m.DEmbedded, Grad(Weights.Embedding), h);
        RmsNorm.Backward(_final, Value(w.HiddenNorm), m.HiddenRstd, m.DHiddenNormed, m.DFinal, Grad(w.HiddenNorm), n, h, accumulateDx: false);
    }

    /// <summary>Adds the gradient of the last <see cref="Forward"/>'s loss to <see cref="TrainingParameters.Gradients"/>.</summary>
    public void Backward()
    {
        int n = Rows, h = _s.HiddenSize;
        var dx = _dResidual;
        if (_mtp is not null) MtpBackward(Weights.Mtp!, _mtp);
        Linear.Backward(_final, Value(Weights.LmHead), _dLogits, _dHidden, Grad(Weights.LmHead), [],
            _inputTransposed, _weightTransposed, n, h, _s.VocabSize, accumulateDx: false);
        if (_mtp is not null) System.Numerics.Tensors.TensorPrimitives.Add(_dHidden, _mtp.DFinal, _dHidden);
        RmsNorm.Backward(_residuals[^1], Value(Weights.FinalNorm), _finalRstd, _dHidden, dx, Grad(Weights.FinalNorm), n, h, accumulateDx: false);
        for (int l = _s.NumLayers - 1; l >= 0; l--) LayerBackward(Weights.Layers[l], _layers[l], _residuals[l], dx);
        Embedding.Backward(_inputs, dx, Grad(Weights.Embedding), h);
    }

    /// <summary>
    /// GLM-4.5's auxiliary-loss-free balancing after a training step: each router's selection bias moves by
    /// <paramref name="rate"/> towards the experts its last forward pass used less than the mean.
    /// </summary>
    public void BalanceRouters(float rate)
    {
        for (int l = 0; l < _s.NumLayers; l++)
            if (_layers[l].Routed is { } routed) routed.BalanceBias(Value(Weights.Layers[l].Moe!.SelectionBias), rate);
        if (_mtp?.Layer.Routed is { } mtpRouted) mtpRouted.BalanceBias(Value(Weights.Mtp!.Layer.Moe!.SelectionBias), rate);
    }

    private float Eps => (float)_s.Attention.RmsNormEps;

    private void LayerForward(Glm4MoeLayerWeights w, MoeLayerActivations a, float[] x, float[] output)
    {
        int n = Rows, h = _s.HiddenSize;
        RmsNorm.Forward(x, Value(w.InputNorm), a.AttnIn, a.AttnInRstd, n, h, Eps);
        _attention.Forward(_p, w.Attention, a.Attention, a.AttnIn, a.Mid, _weightTransposed);
        System.Numerics.Tensors.TensorPrimitives.Add(a.Mid, x, a.Mid);

        RmsNorm.Forward(a.Mid, Value(w.PostAttentionNorm), a.MlpIn, a.MlpInRstd, n, h, Eps);
        if (w.Dense is { } dense) SwiGluForward(dense, a.MlpIn, a.GateUp, a.Act, output, _s.Attention.IntermediateSize);
        else
        {
            var moe = w.Moe!;
            a.Routed!.Forward(a.MlpIn, Value(moe.Router), Value(moe.SelectionBias), Value(moe.ExpertsGateUp), Value(moe.ExpertsDown), output, n);
            if (moe.Shared is { } shared)
            {
                SwiGluForward(shared, a.MlpIn, a.GateUp, a.Act, a.SharedOut, _s.SharedIntermediateSize);
                System.Numerics.Tensors.TensorPrimitives.Add(output, a.SharedOut, output);
            }
        }
        System.Numerics.Tensors.TensorPrimitives.Add(output, a.Mid, output);
    }

    /// <summary>On entry <paramref name="dx"/> holds d(output); on exit d(x).</summary>
    private void LayerBackward(Glm4MoeLayerWeights w, MoeLayerActivations a, float[] x, float[] dx)
    {
        int n = Rows, h = _s.HiddenSize;
        // FFN half: output = mid + FFN(post_attention_layernorm(mid)); dx carries d(mid) through the residual.
        if (w.Dense is { } dense) SwiGluBackward(dense, a.MlpIn, a.GateUp, a.Act, dx, _dHidden, _s.Attention.IntermediateSize, accumulate: false);
        else
        {
            var moe = w.Moe!;
            a.Routed!.Backward(a.MlpIn, Value(moe.Router), Value(moe.ExpertsGateUp), Value(moe.ExpertsDown), dx, _dHidden,
                Grad(moe.Router), Grad(moe.ExpertsGateUp), Grad(moe.ExpertsDown));
            if (moe.Shared is { } shared) SwiGluBackward(shared, a.MlpIn, a.GateUp, a.Act, dx, _dHidden, _s.SharedIntermediateSize, accumulate: true);
        }
        RmsNorm.Backward(a.Mid, Value(w.PostAttentionNorm), a.MlpInRstd, _dHidden, dx, Grad(w.PostAttentionNorm), n, h, accumulateDx: true);

        // Attention half: mid = x + attn(input_layernorm(x)).
        _attention.Backward(_p, w.Attention, a.Attention, a.AttnIn, dx, _dHidden, _attentionGradients);
        RmsNorm.Backward(x, Value(w.InputNorm), a.AttnInRstd, _dHidden, dx, Grad(w.InputNorm), n, h, accumulateDx: true);
    }

    private void SwiGluForward(SwiGluWeights w, float[] input, float[] gateUp, float[] act, Span<float> output, int inner)
    {
        int n = Rows, h = _s.HiddenSize;
        Linear.Forward(input, Value(w.GateUp), [], gateUp, _weightTransposed, n, h, 2 * inner);
        SwiGlu.Forward(gateUp, act, n, inner);
        Linear.Forward(act, Value(w.Down), [], output, _weightTransposed, n, inner, h);
    }

    /// <summary>Writes (or adds) d(input) for d(output) of a SwiGLU, from its forward pass's gate_up and act.</summary>
    private void SwiGluBackward(SwiGluWeights w, float[] input, float[] gateUp, float[] act, ReadOnlySpan<float> dOutput, Span<float> dInput, int inner, bool accumulate)
    {
        int n = Rows, h = _s.HiddenSize;
        var dAct = _dAct.AsSpan(0, n * inner);
        var dGateUp = _dGateUp.AsSpan(0, n * 2 * inner);
        Linear.Backward(act.AsSpan(0, n * inner), Value(w.Down), dOutput, dAct, Grad(w.Down), [], _inputTransposed, _weightTransposed, n, inner, h, accumulateDx: false);
        SwiGlu.Backward(gateUp.AsSpan(0, n * 2 * inner), dAct, dGateUp, n, inner);
        Linear.Backward(input, Value(w.GateUp), dGateUp, dInput, Grad(w.GateUp), [], _inputTransposed, _weightTransposed, n, h, 2 * inner, accumulateDx: accumulate);
    }

    private Span<float> Value(TrainingParameter p) => p.Of(_p.Values);

    private Span<float> Grad(TrainingParameter p) => p.Of(_p.Gradients);
}

/// <summary>What one glm4_moe layer's forward pass keeps for its backward pass.</summary>
internal sealed class MoeLayerActivations
{
    public MoeLayerActivations(Glm4MoeTrainingShape s, int layer, int batch, int seqLen)
    {
        int n = batch * seqLen, h = s.HiddenSize;
        int inner = s.IsDense(layer) ? s.Attention.IntermediateSize : s.SharedIntermediateSize;
        AttnIn = new float[n * h];
        AttnInRstd = new float[n];
        Attention = new AttentionActivations(s.Attention, batch, seqLen);
        Mid = new float[n * h];
        MlpIn = new float[n * h];
        MlpInRstd = new float[n];
        GateUp = new float[n * 2 * inner];
        Act = new float[n * inner];
        SharedOut = new float[s.IsDense(layer) ? 0 : n * h];
        Routed = s.IsDense(layer) ? null
            : new RoutedExperts(h, s.ExpertIntermediateSize, s.Experts, s.ExpertsPerToken, s.NormTopkProb, (float)s.RoutedScalingFactor, n);
    }

    public float[] AttnIn { get; }       // input_layernorm(x)                 [N, H]
    public float[] AttnInRstd { get; }   //                                    [N]
    public AttentionActivations Attention { get; }
    public float[] Mid { get; }          // x + attention                      [N, H]
    public float[] MlpIn { get; }        // post_attention_layernorm(mid)      [N, H]
    public float[] MlpInRstd { get; }    //                                    [N]
    public float[] GateUp { get; }       // dense or shared gate_up output     [N, 2I]
    public float[] Act { get; }          // silu(gate)·up                      [N, I]
    public float[] SharedOut { get; }    // shared experts' output             [N, H]
    public RoutedExperts? Routed { get; }
}

/// <summary>What the multi-token-prediction layer's forward pass keeps, and its gradient buffers.</summary>
internal sealed class MtpActivations(Glm4MoeTrainingShape s, int batch, int seqLen)
{
    private static float[] Rows(int n, int width) => new float[n * width];

    public int[] NextTokens { get; } = new int[batch * seqLen];
    public int[] Targets { get; } = new int[batch * seqLen];
    public float[] Embedded { get; } = Rows(batch * seqLen, s.HiddenSize);
    public float[] EmbeddedNormed { get; } = Rows(batch * seqLen, s.HiddenSize);
    public float[] EmbeddedRstd { get; } = new float[batch * seqLen];
    public float[] HiddenNormed { get; } = Rows(batch * seqLen, s.HiddenSize);
    public float[] HiddenRstd { get; } = new float[batch * seqLen];
    public float[] Joined { get; } = Rows(batch * seqLen, 2 * s.HiddenSize);
    public float[] LayerIn { get; } = Rows(batch * seqLen, s.HiddenSize);
    public MoeLayerActivations Layer { get; } = new(s, s.NumLayers, batch, seqLen);
    public float[] LayerOut { get; } = Rows(batch * seqLen, s.HiddenSize);
    public float[] HeadIn { get; } = Rows(batch * seqLen, s.HiddenSize);
    public float[] HeadRstd { get; } = new float[batch * seqLen];
    public float[] Logits { get; } = new float[(long)batch * seqLen * s.VocabSize];
    public float[] DLogits { get; } = new float[(long)batch * seqLen * s.VocabSize];
    public float[] DLayer { get; } = Rows(batch * seqLen, s.HiddenSize);
    public float[] DJoined { get; } = Rows(batch * seqLen, 2 * s.HiddenSize);
    public float[] DEmbeddedNormed { get; } = Rows(batch * seqLen, s.HiddenSize);
    public float[] DEmbedded { get; } = Rows(batch * seqLen, s.HiddenSize);
    public float[] DHiddenNormed { get; } = Rows(batch * seqLen, s.HiddenSize);
    public float[] DFinal { get; } = Rows(batch * seqLen, s.HiddenSize);
}
