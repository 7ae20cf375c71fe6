using GlmSharp.Configs;

namespace GlmSharp.Models;

/// <summary>
/// Every activation buffer of one forward pass, allocated once per session from the config and the largest
/// batch of tokens processed at a time, so decoding a token allocates nothing.
/// </summary>
public sealed class ForwardScratch
{
    private readonly float[] _hidden, _normed, _queryKeyValue, _attention, _projected, _gateUp, _intermediate;
    private readonly int _hiddenSize, _queryWidth, _kvWidth, _intermediateSize;

    public int MaxRows { get; }

    public ForwardScratch(ModelConfig config, int maxRows)
    {
        MaxRows = maxRows;
        _hiddenSize = config.HiddenSize;
        _queryWidth = config.NumHeads * config.HeadDim;
        _kvWidth = config.NumKvHeads * config.HeadDim;
        _intermediateSize = config.IntermediateSize;
        _hidden = new float[maxRows * _hiddenSize];           // (rows, hidden) residual stream
        _normed = new float[maxRows * _hiddenSize];           // (rows, hidden) normalised input of a sub-layer
        _projected = new float[maxRows * _hiddenSize];        // (rows, hidden) output of a sub-layer
        _queryKeyValue = new float[maxRows * (_queryWidth + 2 * _kvWidth)]; // q, k, v one after another
        _attention = new float[maxRows * _queryWidth];        // (rows, heads·headDim)
        _gateUp = new float[maxRows * 2 * _intermediateSize]; // (rows, 2·intermediate)
        _intermediate = new float[maxRows * _intermediateSize];
    }

    public Span<float> Hidden(int rows) => _hidden.AsSpan(0, rows * _hiddenSize);
    public Span<float> Normed(int rows) => _normed.AsSpan(0, rows * _hiddenSize);
    public Span<float> Projected(int rows) => _projected.AsSpan(0, rows * _hiddenSize);
    /// <summary>(rows, heads·headDim) queries, then (rows, kvHeads·headDim) keys and values: one multiplication fills all three.</summary>
    public Span<float> QueryKeyValue(int rows) => _queryKeyValue.AsSpan(0, rows * (_queryWidth + 2 * _kvWidth));
    public Span<float> AttentionOutput(int rows) => _attention.AsSpan(0, rows * _queryWidth);
    public Span<float> GateUp(int rows) => _gateUp.AsSpan(0, rows * 2 * _intermediateSize);
    public Span<float> Intermediate(int rows) => _intermediate.AsSpan(0, rows * _intermediateSize);
}
