using GlmSharp.Configs;
using GlmSharp.Formats;
using GlmSharp.Kernels;
using GlmSharp.Models;
using GlmSharp.Models.Blocks;
using GlmSharp.Tensors;

namespace GlmSharp.Vision.Blocks;

/// <summary>
/// The tower's output stage: each merge × merge block of patches (consecutive rows, in merge-block order) through the
/// downsample Conv2d (kernel = stride = merge, with bias) to one token, then transformers' Glm4vVisionPatchMerger —
/// proj (no bias) → LayerNorm (with bias, eps 1e-5) → exact GELU → down(silu(gate) · up) — to the text model's width.
/// The convolution is a linear map of the block's rows side by side: W'[o, (a·merge + b)·hidden + c] = W[o, c, a, b].
/// </summary>
internal sealed class VisionPatchMerger : IDisposable
{
    private const float LayerNormEps = 1e-5f;

    private readonly IComputeBackend _backend;
    private readonly TensorView _downsample;
    private readonly DeviceSpan<float> _downsampleBias, _normWeight, _normBias;
    private readonly Linear _proj, _down;
    private readonly TensorView[] _gateUp;
    private readonly int _out, _intermediate;

    public VisionPatchMerger(WeightBuilder w, ITensorSource source, string prefix, IComputeBackend backend, Glm4vVisionConfig c)
    {
        _backend = backend;
        _out = c.OutHiddenSize;
        _intermediate = c.MergerWidth;
        int hidden = c.HiddenSize, merge = c.SpatialMergeSize, blockWidth = merge * merge * hidden;
        var conv = VisionWeights.Floats(source, prefix + "downsample.weight", [_out, hidden, merge, merge]);
        var linear = new float[conv.Length];
        for (int o = 0; o < _out; o++)
            for (int ch = 0; ch < hidden; ch++)
                for (int j = 0; j < merge * merge; j++)
                    linear[(long)o * blockWidth + j * hidden + ch] = conv[((long)o * hidden + ch) * merge * merge + j];
        _downsample = VisionWeights.Matrix(backend, prefix + "downsample.weight (as a matrix)", linear, _out, blockWidth, source.Origin);
        _downsampleBias = w.Parameter("downsample.bias", _out);
        var merger = w.At("merger");
        _proj = Linear.Load(merger, backend, "proj", _out, _out);
        _normWeight = merger.Parameter("post_projection_norm.weight", _out);
        _normBias = merger.Parameter("post_projection_norm.bias", _out);
        _gateUp = [backend.PrepareMatrix(merger.Matrix("gate_proj.weight", _intermediate, _out)), backend.PrepareMatrix(merger.Matrix("up_proj.weight", _intermediate, _out))];
        _down = Linear.Load(merger, backend, "down_proj", _intermediate, _out);
    }

    /// <summary>[patches, hidden] in s.Hidden → [tokens, out] in s.MergedNormed.</summary>
    public DeviceSpan<float> Forward(VisionScratch s)
    {
        int m = s.Tokens, width = m * _out;
        var merged = s.Merged.Take(width);
        var normed = s.MergedNormed.Take(width);
        _backend.MatMul(_downsample, s.Hidden, merged, m);
        _backend.AddBias(merged, _downsampleBias, m);
        _proj.Forward(merged, normed, m);
        _backend.LayerNorm(normed, _normWeight, _normBias, LayerNormEps, merged, m);
        _backend.Gelu(merged, merged, GeluApproximation.Erf);
        int values = m * _intermediate;
        var gateUp = s.GateUp.Take(2 * values);
        _backend.MatMul(_gateUp, merged, gateUp, m);
        _backend.SwiGlu(gateUp.Take(values), gateUp.Slice(values, values), s.Activated.Take(values), m, _intermediate);
        _down.Forward(s.Activated.Take(values), normed, m);
        return normed;
    }

    /// <summary>Frees the downsample matrix, the one weight the merger copies.</summary>
    public void Dispose() => _downsample.Storage?.Dispose();
}
