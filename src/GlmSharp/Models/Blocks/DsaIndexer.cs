using GlmSharp.Configs;
using GlmSharp.Kernels;
using GlmSharp.Kernels.Paging;
using GlmSharp.Tensors;

namespace GlmSharp.Models.Blocks;

/// <summary>
/// The lightning indexer of DeepSeek sparse attention (DeepSeek-V3.2; GLM-5's glm_moe_dsa, llama.cpp glm-dsa), which
/// picks the index_topk cached positions each query attends to:
///   q_h   = RoPE(wq_b(c_q))_h          per indexer head, from MLA's normed query latent c_q   [heads, head_dim]
///   k     = RoPE(LayerNorm(wk(x)))     one key head per position, cached in its own stream     [head_dim]
///   w_h   = weights_proj(x)_h          each head's weight for this query
///   I_t   = Σ_h w_h · ReLU(q_h · k_t)  over the positions t the row sees; the top k are kept.
/// RoPE turns the first qk_rope_head_dim dims of each head (the rope part comes first, the rest is not rotated) as
/// adjacent pairs: GLM-5's indexer_rope_interleave, llama.cpp's NORM rope in its glm-dsa graph (DeepSeek-V3.2's own
/// indexer turns split halves instead). As llama.cpp does, q and k are then rotated by a Walsh–Hadamard matrix
/// (<see cref="WalshHadamard"/>), which leaves the scores as they are but the cached keys rounded as llama.cpp rounds them.
/// The reference also scales w by 1/√(heads · head_dim); a positive scale changes no ranking, so it is left out.
/// </summary>
public sealed class DsaIndexer : IKeySelector
{
    /// <summary>The k_norm epsilon of the GLM-5 reference (nn.LayerNorm(head_dim, eps=1e-6)).</summary>
    public const float KeyNormEps = 1e-6f;

    /// <summary>
    /// The name of the cache stream of indexer keys, by which a pool's stream types give it a type of its own: Q8_0 keys
    /// beside F16 latents for the CPU backend's int8 indexer (<see cref="Kernels.Cpu.CpuBackend.Int8Indexer"/>).
    /// </summary>
    public const string KeyStream = "indexer keys";

    private readonly IComputeBackend _backend;
    private readonly Linear _query, _key, _headWeights;
    private readonly DeviceSpan<float> _keyNormWeight, _keyNormBias;
    private readonly RopeTable _rope;
    private readonly TensorView? _rotation;
    private readonly int _heads;

    public DsaIndexer(WeightBuilder indexer, IComputeBackend backend, ModelConfig config, MlaShape mla, DsaIndexerShape shape, RopeTable rope)
    {
        int qLora = mla.QLoraRank ?? throw new ArgumentException("the DSA indexer projects its queries from the query latent: q_lora_rank is required", nameof(mla));
        _backend = backend;
        _rope = rope;
        _heads = shape.Heads;
        _rotation = WalshHadamard.Rotates(shape.HeadDim) ? WalshHadamard.Matrix(shape.HeadDim) : null;
        _query = Linear.Load(indexer, backend, "wq_b", qLora, shape.Heads * shape.HeadDim);
        _key = Linear.Load(indexer, backend, "wk", config.HiddenSize, shape.HeadDim);
        _keyNormWeight = indexer.Parameter("k_norm.weight", shape.HeadDim);
        _keyNormBias = indexer.OptionalParameter("k_norm.bias", shape.HeadDim) ?? default;
        _headWeights = Linear.Load(indexer, backend, "weights_proj", config.HiddenSize, shape.Heads);
        CacheStreams = [new CacheStream(KeyStream, 1, shape.HeadDim)];
    }

    public IReadOnlyList<CacheStream> CacheStreams { get; }

    public KeySelection Select(DeviceSpan<float> x, DeviceSpan<float> queryLatent, in ForwardStep step, LayerCache cache, int firstStream)
    {
        var scratch = step.Scratch.Dsa ?? throw new InvalidOperationException("the DSA indexer needs the context's DSA buffers (a GlmMoeDsaConfig)");
        int rows = step.Rows, headDim = _keyNormWeight.Length;
        var keys = cache.Stream(firstStream);

        var projected = scratch.Projected(rows, _heads);
        var queries = scratch.Queries(rows);
        _query.Forward(queryLatent, projected, rows);
        _backend.Rope(projected, rows, _heads, headDim, step.Positions, _rope);
        Rotate(projected, queries, rows * _heads);

        projected = scratch.Projected(rows, 1);
        var newKeys = scratch.Keys(rows);
        _key.Forward(x, projected, rows);
        _backend.LayerNorm(projected, _keyNormWeight, _keyNormBias, KeyNormEps, projected, rows);
        _backend.Rope(projected, rows, 1, headDim, step.Positions, _rope);
        Rotate(projected, newKeys, rows);
        _backend.StoreRows(keys, step.Cache, newKeys);

        var weights = scratch.Weights(rows);
        _headWeights.Forward(x, weights, rows);
        var selection = scratch.Selection(rows);
        _backend.SelectKeys(queries, weights, step.Cache, keys, _heads, selection);
        return selection;
    }

    private void Rotate(DeviceSpan<float> heads, DeviceSpan<float> rotated, int count)
    {
        if (_rotation is null) _backend.Copy(heads, rotated);
        else _backend.MatMul(_rotation, heads, rotated, count);
    }
}
