using GlmSharp.Configs;
using GlmSharp.Kernels;

namespace GlmSharp.Models;

/// <summary>
/// The activation buffers of MLA attention (<see cref="Blocks.MlaAttention"/>), allocated once per context beside
/// <see cref="ForwardScratch"/>'s, for at most <see cref="ForwardScratch.MaxRows"/> rows. A cached row is
/// [k_rope (rope) ; latent (kv_lora_rank)], and each absorbed query head is laid out the same way.
/// </summary>
public sealed class MlaScratch
{
    private readonly DeviceSpan<float> _queryLatent, _queries, _nopeQueries, _latentQueries, _headLatents, _headValues, _compressed, _latent, _cacheRows;
    private readonly DeviceSpan<int> _headIds;
    private readonly int _heads, _qLora, _qkHead, _nope, _latentRow, _kvLora, _value;

    /// <param name="allocate">Allocates (and keeps for disposal) backend memory of that many floats.</param>
    internal MlaScratch(IComputeBackend backend, ModelConfig config, MlaShape mla, int maxRows, Func<long, DeviceSpan<float>> allocate, Func<int, DeviceSpan<int>> allocateInts)
    {
        _heads = config.NumHeads;
        _qLora = mla.QLoraRank ?? 0;
        _qkHead = mla.QkHeadDim;
        _nope = mla.QkNopeHeadDim;
        _kvLora = mla.KvLoraRank;
        _latentRow = mla.KvLoraRank + mla.QkRopeHeadDim;
        _value = mla.VHeadDim;
        long headRows = (long)maxRows * _heads;
        _queryLatent = allocate(Math.Max(1L, (long)maxRows * _qLora)); // (rows, q_lora_rank)
        _queries = allocate(headRows * _qkHead);                        // (rows, heads, nope + rope) as q_b projects them
        _nopeQueries = allocate(headRows * _nope);                      // (rows, heads, nope)
        _latentQueries = allocate(headRows * _latentRow);               // (rows, heads, rope + kv_lora_rank) absorbed
        _headLatents = allocate(headRows * _kvLora);                    // (rows, heads, kv_lora_rank)
        _headValues = allocate(headRows * _value);                      // (rows, heads, v_head_dim)
        _compressed = allocate((long)maxRows * _latentRow);             // (rows, kv_lora_rank + rope) as kv_a projects them
        _latent = allocate((long)maxRows * _kvLora);                    // (rows, kv_lora_rank) normed latent
        _cacheRows = allocate((long)maxRows * _latentRow);              // (rows, rope + kv_lora_rank) as cached
        _headIds = allocateInts(checked((int)headRows));
        // Each (row, head) pair is its head's own "expert": the per-head matrices of k_b and v_b run as one grouped product.
        backend.Upload<int>(Enumerable.Range(0, checked((int)headRows)).Select(i => i % _heads).ToArray(), _headIds);
    }

    public DeviceSpan<float> QueryLatent(int rows) => _queryLatent.Take(rows * _qLora);
    public DeviceSpan<float> Queries(int rows) => _queries.Take(rows * _heads * _qkHead);
    public DeviceSpan<float> NopeQueries(int rows) => _nopeQueries.Take(rows * _heads * _nope);
    public DeviceSpan<float> LatentQueries(int rows) => _latentQueries.Take(rows * _heads * _latentRow);
    /// <summary>Each head's query absorbed into latent space, and later its attention output there.</summary>
    public DeviceSpan<float> HeadLatents(int rows) => _headLatents.Take(rows * _heads * _kvLora);
    public DeviceSpan<float> HeadValues(int rows) => _headValues.Take(rows * _heads * _value);
    public DeviceSpan<float> Compressed(int rows) => _compressed.Take(rows * _latentRow);
    public DeviceSpan<float> Latent(int rows) => _latent.Take(rows * _kvLora);
    public DeviceSpan<float> CacheRows(int rows) => _cacheRows.Take(rows * _latentRow);
    /// <summary>(rows, heads): h at every (r, h).</summary>
    public DeviceSpan<int> HeadIds(int rows) => _headIds.Take(rows * _heads);
}
