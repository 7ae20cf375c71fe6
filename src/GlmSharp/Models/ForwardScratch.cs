using GlmSharp.Configs;
using GlmSharp.Kernels;

namespace GlmSharp.Models;

/// <summary>
/// Every activation buffer of one forward pass, in the backend's memory, allocated once per context from the config
/// and the most rows run through the layers together, so a decode step allocates nothing.
/// </summary>
public sealed class ForwardScratch : IDisposable
{
    /// <summary>
    /// Rows whose logits are computed in the backend's memory at a time before they are copied out: every decode
    /// step's rows, and a bound on the buffer a 512-row prefill of a 151,552-token vocabulary would need (310 MB).
    /// </summary>
    public const int LogitRowsPerPass = 64;

    private readonly DeviceSpan<float> _hidden, _normed, _queryKeyValue, _attention, _projected, _gateUp, _intermediate, _logits;
    private readonly int _hiddenSize, _queryWidth, _kvWidth, _intermediateSize, _vocab;

    public int MaxRows { get; }

    public ForwardScratch(IComputeBackend backend, ModelConfig config, int maxRows)
    {
        MaxRows = maxRows;
        _hiddenSize = config.HiddenSize;
        _queryWidth = config.NumHeads * config.HeadDim;
        _kvWidth = config.NumKvHeads * config.HeadDim;
        _intermediateSize = config.IntermediateSize;
        _vocab = config.VocabSize;
        _hidden = backend.Allocate<float>(maxRows * _hiddenSize);           // (rows, hidden) residual stream
        _normed = backend.Allocate<float>(maxRows * _hiddenSize);           // (rows, hidden) normalised input of a sub-layer
        _projected = backend.Allocate<float>(maxRows * _hiddenSize);        // (rows, hidden) output of a sub-layer
        _queryKeyValue = backend.Allocate<float>(maxRows * (_queryWidth + 2 * _kvWidth)); // q, k, v one after another
        _attention = backend.Allocate<float>(maxRows * _queryWidth);        // (rows, heads·headDim)
        _gateUp = backend.Allocate<float>(maxRows * 2 * _intermediateSize); // (rows, 2·intermediate)
        _intermediate = backend.Allocate<float>(maxRows * _intermediateSize);
        _logits = backend.Allocate<float>(checked(Math.Min(maxRows, LogitRowsPerPass) * _vocab));
    }

    public DeviceSpan<float> Hidden(int rows) => _hidden.Take(rows * _hiddenSize);
    public DeviceSpan<float> Normed(int rows) => _normed.Take(rows * _hiddenSize);
    public DeviceSpan<float> Projected(int rows) => _projected.Take(rows * _hiddenSize);
    /// <summary>(rows, heads·headDim) queries, then (rows, kvHeads·headDim) keys and values: one multiplication fills all three.</summary>
    public DeviceSpan<float> QueryKeyValue(int rows) => _queryKeyValue.Take(rows * (_queryWidth + 2 * _kvWidth));
    public DeviceSpan<float> AttentionOutput(int rows) => _attention.Take(rows * _queryWidth);
    public DeviceSpan<float> GateUp(int rows) => _gateUp.Take(rows * 2 * _intermediateSize);
    public DeviceSpan<float> Intermediate(int rows) => _intermediate.Take(rows * _intermediateSize);
    /// <summary>(rows, vocab) for at most <see cref="LogitRowsPerPass"/> rows.</summary>
    public DeviceSpan<float> Logits(int rows) => _logits.Take(rows * _vocab);

    public void Dispose()
    {
        foreach (var buffer in (DeviceSpan<float>[])[_hidden, _normed, _projected, _queryKeyValue, _attention, _gateUp, _intermediate, _logits])
            buffer.Memory.Dispose();
    }
}
