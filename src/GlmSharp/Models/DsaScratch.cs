using GlmSharp.Configs;
using GlmSharp.Kernels;

namespace GlmSharp.Models;

/// <summary>
/// The lightning indexer's activation buffers (<see cref="Blocks.DsaIndexer"/>), allocated once per context for at most
/// <see cref="ForwardScratch.MaxRows"/> rows, and the step's key selection, which IndexShare's shared layers read back.
/// </summary>
public sealed class DsaScratch
{
    private readonly DeviceSpan<float> _projected, _queries, _keys, _weights;
    private readonly DeviceSpan<int> _selection;
    private readonly int _heads, _headDim, _topK;

    internal DsaScratch(DsaIndexerShape indexer, int maxRows, Func<long, DeviceSpan<float>> allocate, Func<int, DeviceSpan<int>> allocateInts)
    {
        _heads = indexer.Heads;
        _headDim = indexer.HeadDim;
        _topK = indexer.TopK;
        _projected = allocate((long)maxRows * _heads * _headDim); // (rows, indexer heads, head dim) before the Hadamard rotation
        _queries = allocate((long)maxRows * _heads * _headDim);   // (rows, indexer heads, head dim)
        _keys = allocate((long)maxRows * _headDim);               // (rows, head dim): one key head
        _weights = allocate((long)maxRows * _heads);              // (rows, indexer heads)
        _selection = allocateInts(checked(maxRows * _topK));      // (rows, top-k) chosen slots, ascending
    }

    /// <summary>Queries or keys as projected and turned by RoPE, before the Hadamard rotation.</summary>
    public DeviceSpan<float> Projected(int rows, int heads) => _projected.Take(rows * heads * _headDim);
    public DeviceSpan<float> Queries(int rows) => _queries.Take(rows * _heads * _headDim);
    public DeviceSpan<float> Keys(int rows) => _keys.Take(rows * _headDim);
    public DeviceSpan<float> Weights(int rows) => _weights.Take(rows * _heads);

    /// <summary>The positions the step's last full indexer layer chose.</summary>
    public KeySelection Selection(int rows) => new(_selection.Take(rows * _topK), _topK);
}
