using GlmSharp.Configs;
using GlmSharp.Kernels;
using GlmSharp.Models;
using GlmSharp.Models.Blocks;
using GlmSharp.Tensors;

namespace GlmSharp.Vision.Blocks;

/// <summary>
/// One block of the glm4v vision tower (transformers' Glm4vVisionBlock, llama.cpp's build_vit with RMS norms) —
///   h   = x + proj(Attention(RoPE2D(q), RoPE2D(k), v))   on norm1(x), q/k/v from one fused qkv projection
///   out = h + down(silu(gate) · up)                      on norm2(h), gate and up out_hidden_size wide
/// Attention is bidirectional over all patches of the image, scaled by 1/√head_dim. GLM-OCR's block
/// (<see cref="Glm4vVisionConfig.GlmOcrLayout"/>) RMS-norms each head of q and k before RoPE and has biases on proj
/// and on the MLP, which is intermediate_size wide.
/// </summary>
internal sealed class VisionBlock
{
    private readonly IComputeBackend _backend;
    private readonly RmsNorm _norm1, _norm2;
    private readonly Linear _qkv, _proj, _down;
    private readonly TensorView[] _gateUp;
    private readonly DeviceSpan<float>? _gateBias, _upBias;
    private readonly float[]? _queryNorm, _keyNorm;
    private readonly float _eps;
    private readonly int _hidden, _heads, _mlpWidth;

    public VisionBlock(WeightBuilder w, IComputeBackend backend, Glm4vVisionConfig c)
    {
        _backend = backend;
        _hidden = c.HiddenSize;
        _heads = c.NumHeads;
        _mlpWidth = c.BlockMlpWidth;
        _eps = (float)c.RmsNormEps;
        _norm1 = RmsNorm.Load(w, backend, "norm1", _hidden, c.RmsNormEps);
        _qkv = Linear.Load(w.At("attn"), backend, "qkv", _hidden, 3 * _hidden, mayHaveBias: true);
        _proj = Linear.Load(w.At("attn"), backend, "proj", _hidden, _hidden, mayHaveBias: true);
        if (c.GlmOcrLayout)
        {
            _queryNorm = w.At("attn").Vector("q_norm.weight", c.HeadDim);
            _keyNorm = w.At("attn").Vector("k_norm.weight", c.HeadDim);
        }
        _norm2 = RmsNorm.Load(w, backend, "norm2", _hidden, c.RmsNormEps);
        var mlp = w.At("mlp");
        _gateUp = [backend.PrepareMatrix(mlp.Matrix("gate_proj.weight", _mlpWidth, _hidden)), backend.PrepareMatrix(mlp.Matrix("up_proj.weight", _mlpWidth, _hidden))];
        _down = Linear.Load(mlp, backend, "down_proj", _mlpWidth, _hidden, mayHaveBias: c.BlockBiases);
        if (c.BlockBiases)
        {
            _gateBias = mlp.Parameter("gate_proj.bias", _mlpWidth);
            _upBias = mlp.Parameter("up_proj.bias", _mlpWidth);
        }
    }

    public void Forward(VisionScratch s, VisionPatchAngles angles)
    {
        int n = s.Patches, width = n * _hidden;
        var hidden = s.Hidden.Take(width);
        var normed = s.Normed.Take(width);
        var projected = s.Projected.Take(width);

        _norm1.Apply(hidden, normed, n);
        _qkv.Forward(normed, s.QueryKeyValue, n);
        SplitAndRotate(s, angles);
        _backend.BidirectionalAttention(s.Query, s.Key, s.Value, s.Attention, n, _heads, _hidden / _heads, 1f / MathF.Sqrt(_hidden / _heads));
        _proj.Forward(s.Attention.Take(width), projected, n);
        _backend.Add(hidden, projected);

        _norm2.Apply(hidden, normed, n);
        int values = n * _mlpWidth;
        var gateUp = s.GateUp.Take(2 * values);
        _backend.MatMul(_gateUp, normed, gateUp, n);
        if (_gateBias is { } gateBias && _upBias is { } upBias)
        {
            _backend.AddBias(gateUp.Take(values), gateBias, n);
            _backend.AddBias(gateUp.Slice(values, values), upBias, n);
        }
        _backend.SwiGlu(gateUp.Take(values), gateUp.Slice(values, values), s.Activated.Take(values), n, _mlpWidth);
        _down.Forward(s.Activated.Take(values), projected, n);
        _backend.Add(hidden, projected);
    }

    /// <summary>RMSNorm over each head's slice of one q or k row, in fp32 as transformers' GlmOcrRMSNorm computes it.</summary>
    private void NormHeads(Span<float> row, float[] weight)
    {
        int headDim = weight.Length;
        for (int h = 0; h < _heads; h++)
        {
            var head = row.Slice(h * headDim, headDim);
            float sum = 0;
            foreach (float x in head) sum += x * x;
            float scale = 1f / MathF.Sqrt(sum / headDim + _eps);
            for (int i = 0; i < headDim; i++) head[i] = head[i] * scale * weight[i];
        }
    }

    /// <summary>
    /// The fused [q | k | v] rows into separate q, k, v matrices, q and k rotated by each patch's 2-D angles, on the host
    /// in the scratch's arrays. One pass over n × 3·hidden values, under 1% of a block's time at any image size; it runs on
    /// the calling thread so that a run's thread count stays the backend's.
    /// </summary>
    private void SplitAndRotate(VisionScratch s, VisionPatchAngles angles)
    {
        int n = s.Patches, values = n * _hidden;
        float[] fused = s.HostQueryKeyValue, q = s.HostQuery, k = s.HostKey, v = s.HostValue;
        _backend.Download(s.QueryKeyValue.Take(3 * values), fused.AsSpan(0, 3 * values));
        for (int p = 0; p < n; p++)
        {
            var row = fused.AsSpan(p * 3 * _hidden, 3 * _hidden);
            var query = q.AsSpan(p * _hidden, _hidden);
            var key = k.AsSpan(p * _hidden, _hidden);
            row[.._hidden].CopyTo(query);
            row.Slice(_hidden, _hidden).CopyTo(key);
            row.Slice(2 * _hidden, _hidden).CopyTo(v.AsSpan(p * _hidden, _hidden));
            if (_queryNorm is not null && _keyNorm is not null)
            {
                NormHeads(query, _queryNorm);
                NormHeads(key, _keyNorm);
            }
            angles.Rotate(query, p);
            angles.Rotate(key, p);
        }
        _backend.Upload<float>(q.AsSpan(0, values), s.Query.Take(values));
        _backend.Upload<float>(k.AsSpan(0, values), s.Key.Take(values));
        _backend.Upload<float>(v.AsSpan(0, values), s.Value.Take(values));
    }
}
