using GlmSharp.Configs;
using GlmSharp.Kernels;
using GlmSharp.Kernels.Paging;

namespace GlmSharp.Models.Blocks;

/// <summary>
/// Grouped-query self-attention: q/k/v projections (bias when the checkpoint has one — trusted over attention_bias), o_proj never biased,
/// optionally an RMSNorm over each head of q and of k (GLM-4.5's use_qk_norm, before RoPE), RoPE on q and k,
/// the new keys and values stored in the layer's paged cache, causal attention of each row over its own sequence
/// with scale 1/sqrt(head_dim), and the output projection. Query head h reads kv head h / (heads / kvHeads).
/// </summary>
public sealed class GqaAttention(IComputeBackend backend, Linear query, Linear key, Linear value, Linear output,
    RopeTable rope, int heads, int kvHeads, int headDim, RmsNorm? queryNorm = null, RmsNorm? keyNorm = null) : IAttentionBlock
{
    private readonly FusedProjections _queryKeyValue = new(backend, query, key, value);

    /// <param name="headNorms">Whether q_norm and k_norm (one [head_dim] scale each, shared by the heads) are loaded and applied.</param>
    public static GqaAttention Load(WeightBuilder attention, IComputeBackend backend, ModelConfig config, RopeTable rope, bool headNorms = false)
    {
        int hidden = config.HiddenSize, d = config.HeadDim;
        return new GqaAttention(backend,
            Linear.Load(attention, backend, "q_proj", hidden, config.NumHeads * d, mayHaveBias: true),
            Linear.Load(attention, backend, "k_proj", hidden, config.NumKvHeads * d, mayHaveBias: true),
            Linear.Load(attention, backend, "v_proj", hidden, config.NumKvHeads * d, mayHaveBias: true),
            Linear.Load(attention, backend, "o_proj", config.NumHeads * d, hidden),
            rope, config.NumHeads, config.NumKvHeads, d,
            headNorms ? RmsNorm.Load(attention, backend, "q_norm", d, config.RmsNormEps) : null,
            headNorms ? RmsNorm.Load(attention, backend, "k_norm", d, config.RmsNormEps) : null);
    }

    /// <summary>Keys then values, kvHeads × head_dim each per position.</summary>
    public LayerCacheSpec CacheSpec { get; } = LayerCacheSpec.KeysAndValues(kvHeads, headDim);

    public void Forward(DeviceSpan<float> x, DeviceSpan<float> y, in ForwardStep step, LayerCache cache)
    {
        int rows = step.Rows;
        var qkv = step.Scratch.QueryKeyValue(rows);
        _queryKeyValue.Forward(x, qkv, rows);
        var q = qkv.Take(rows * query.OutFeatures);
        var k = qkv.Slice(q.Length, rows * key.OutFeatures);
        var v = qkv.Slice(q.Length + k.Length, rows * value.OutFeatures);

        queryNorm?.Apply(q, q, rows * heads);
        keyNorm?.Apply(k, k, rows * kvHeads);
        backend.Rope(q, rows, heads, headDim, step.Positions, rope);
        backend.Rope(k, rows, kvHeads, headDim, step.Positions, rope);

        PagedStream keys = cache.Stream(0), values = cache.Stream(1);
        backend.StoreRows(keys, step.Cache, k);
        backend.StoreRows(values, step.Cache, v);
        var attended = step.Scratch.AttentionOutput(rows);
        backend.Attention(q, step.Cache, keys, values, attended, heads, 1f / MathF.Sqrt(headDim));
        output.Forward(attended, y, rows);
    }
}
