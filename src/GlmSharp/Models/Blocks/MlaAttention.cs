using GlmSharp.Configs;
using GlmSharp.Kernels;
using GlmSharp.Kernels.Paging;
using GlmSharp.Tensors;

namespace GlmSharp.Models.Blocks;

/// <summary>
/// Multi-head latent attention (DeepSeek-V2, arXiv 2405.04434 §2.1), run in the absorbed form llama.cpp's deepseek2
/// graph uses:
///   q            = q_b(rmsnorm(q_a(x)))  or  q_proj(x)            [heads, nope + rope]
///   [c ; k_rope] = kv_a_proj_with_mqa(x),  c = kv_a_layernorm(c)   c: kv_lora_rank values shared by every head
///   score_h,t    = (k_b_h · q_nope_h) · c_t + RoPE(q_rope_h) · RoPE(k_rope_t),  scaled by 1/sqrt(nope + rope)
///   out_h        = v_b_h · Σ_t softmax(score)_h,t · c_t,  then o_proj over the heads
/// where k_b_h [kv_lora_rank, nope] and v_b_h [v, kv_lora_rank] are head h's parts of kv_b_proj. Only c and RoPE(k_rope)
/// are cached, kv_lora_rank + rope values per position and layer: one kv head that every query head reads, whose
/// latent part is also the value. The cached row puts the rope part first, so the backend's RoPE (which turns the leading
/// dims of a head) rotates it in place; queries are laid out alike. With a key selector (GLM-5's DSA indexer), each row
/// attends only to the cached positions the selector chose for it, and the selector's own cache streams follow the latents.
/// </summary>
public sealed class MlaAttention : IAttentionBlock
{
    private readonly IComputeBackend _backend;
    private readonly Linear? _queryDown, _queryUp, _query;
    private readonly RmsNorm? _queryNorm;
    private readonly Linear _compress, _output;
    private readonly RmsNorm _latentNorm;
    private readonly TensorView[] _keyUp, _valueUp;
    private readonly RopeTable _rope;
    private readonly IKeySelector? _selector;
    private readonly MlaShape _shape;
    private readonly int _heads, _latentRow;
    private readonly float _scale;

    public MlaAttention(WeightBuilder attention, IComputeBackend backend, ModelConfig config, MlaShape mla, RopeTable rope, IKeySelector? selector = null)
    {
        int hidden = config.HiddenSize, heads = config.NumHeads;
        if (selector is not null && mla.QLoraRank is null)
            throw new ArgumentException("a key selector reads the query latent, so MLA needs q_lora_rank", nameof(selector));
        _backend = backend;
        _rope = rope;
        _selector = selector;
        _shape = mla;
        _heads = heads;
        _latentRow = mla.QkRopeHeadDim + mla.KvLoraRank;
        CacheSpec = new([new CacheStream("latents", 1, _latentRow), .. selector?.CacheStreams ?? []]);
        _scale = 1f / MathF.Sqrt(mla.QkHeadDim);
        if (mla.QLoraRank is int qLora)
        {
            _queryDown = Linear.Load(attention, backend, "q_a_proj", hidden, qLora);
            _queryNorm = RmsNorm.Load(attention, backend, "q_a_layernorm", qLora, config.RmsNormEps);
            _queryUp = Linear.Load(attention, backend, "q_b_proj", qLora, heads * mla.QkHeadDim);
        }
        else _query = Linear.Load(attention, backend, "q_proj", hidden, heads * mla.QkHeadDim);
        _compress = Linear.Load(attention, backend, "kv_a_proj_with_mqa", hidden, mla.KvLoraRank + mla.QkRopeHeadDim);
        _latentNorm = RmsNorm.Load(attention, backend, "kv_a_layernorm", mla.KvLoraRank, config.RmsNormEps);
        _keyUp = Heads(attention.Stack("k_b_proj.weight", heads, mla.KvLoraRank, mla.QkNopeHeadDim));
        _valueUp = Heads(attention.Stack("v_b_proj.weight", heads, mla.VHeadDim, mla.KvLoraRank));
        _output = Linear.Load(attention, backend, "o_proj", heads * mla.VHeadDim, hidden);
    }

    private static TensorView[] Heads(TensorView stack) => [.. Enumerable.Range(0, (int)stack.Shape[0]).Select(h => stack.Slice(h))];

    /// <summary>One stream of one head, [RoPE(k_rope) ; c] per position, then the key selector's streams.</summary>
    public LayerCacheSpec CacheSpec { get; }

    public void Forward(DeviceSpan<float> x, DeviceSpan<float> y, in ForwardStep step, LayerCache cache)
    {
        var scratch = step.Scratch.Mla ?? throw new InvalidOperationException("MLA attention needs the context's MLA buffers (an MlaMoeConfig)");
        int rows = step.Rows, headRows = rows * _heads;
        int rope = _shape.QkRopeHeadDim, nope = _shape.QkNopeHeadDim, kvLora = _shape.KvLoraRank, qkHead = _shape.QkHeadDim;
        var backend = _backend;
        var latents = cache.Stream(0);

        var queries = scratch.Queries(rows);
        KeySelection? selection = null;
        if (_query is not null) _query.Forward(x, queries, rows);
        else
        {
            var queryLatent = scratch.QueryLatent(rows);
            _queryDown!.Forward(x, queryLatent, rows);
            _queryNorm!.Apply(queryLatent, queryLatent, rows);
            _queryUp!.Forward(queryLatent, queries, rows);
            selection = _selector?.Select(x, queryLatent, step, cache, firstStream: 1);
        }

        var compressed = scratch.Compressed(rows);
        var latent = scratch.Latent(rows);
        var cacheRows = scratch.CacheRows(rows);
        _compress.Forward(x, compressed, rows);
        backend.CopyRows(compressed, kvLora + rope, latent, kvLora, rows, kvLora);
        _latentNorm.Apply(latent, latent, rows);
        backend.CopyRows(compressed.Slice(kvLora), kvLora + rope, cacheRows, _latentRow, rows, rope);
        backend.CopyRows(latent, kvLora, cacheRows.Slice(rope), _latentRow, rows, kvLora);
        backend.Rope(cacheRows, rows, 1, _latentRow, step.Positions, _rope);
        backend.StoreRows(latents, step.Cache, cacheRows);

        var latentQueries = scratch.LatentQueries(rows);
        var nopeQueries = scratch.NopeQueries(rows);
        var headLatents = scratch.HeadLatents(rows);
        var headIds = scratch.HeadIds(rows);
        backend.CopyRows(queries.Slice(nope), qkHead, latentQueries, _latentRow, headRows, rope);
        backend.Rope(latentQueries, rows, _heads, _latentRow, step.Positions, _rope);
        backend.CopyRows(queries, qkHead, nopeQueries, nope, headRows, nope);
        backend.MatMulExperts(_keyUp, nopeQueries, inputPerSlot: true, headIds, rows, _heads, headLatents);
        backend.CopyRows(headLatents, kvLora, latentQueries.Slice(rope), _latentRow, headRows, kvLora);

        if (selection is { } chosen)
            backend.SparseLatentAttention(latentQueries, step.Cache, latents, valueOffset: rope, valueWidth: kvLora, headLatents, _heads, _scale, chosen);
        else backend.LatentAttention(latentQueries, step.Cache, latents, valueOffset: rope, valueWidth: kvLora, headLatents, _heads, _scale);
        var headValues = scratch.HeadValues(rows);
        backend.MatMulExperts(_valueUp, headLatents, inputPerSlot: true, headIds, rows, _heads, headValues);
        _output.Forward(headValues, y, rows);
    }
}
