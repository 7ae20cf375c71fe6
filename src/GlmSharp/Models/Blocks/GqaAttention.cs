using GlmSharp.Configs;
using GlmSharp.Kernels;

namespace GlmSharp.Models.Blocks;

/// <summary>
/// Grouped-query self-attention: q/k/v projections (bias when the checkpoint has one — trusted over attention_bias), o_proj never biased, RoPE on q and k,
/// the new keys and values appended to the layer's cache, causal attention with scale 1/sqrt(head_dim),
/// and the output projection. Query head h reads kv head h / (heads / kvHeads).
/// </summary>
public sealed class GqaAttention(IComputeBackend backend, Linear query, Linear key, Linear value, Linear output,
    RopeTable rope, int heads, int kvHeads, int headDim)
{
    private readonly FusedProjections _queryKeyValue = new(backend, query, key, value);

    public static GqaAttention Load(WeightBuilder attention, IComputeBackend backend, ModelConfig config, RopeTable rope)
    {
        int hidden = config.HiddenSize, d = config.HeadDim;
        return new GqaAttention(backend,
            Linear.Load(attention, backend, "q_proj", hidden, config.NumHeads * d, mayHaveBias: true),
            Linear.Load(attention, backend, "k_proj", hidden, config.NumKvHeads * d, mayHaveBias: true),
            Linear.Load(attention, backend, "v_proj", hidden, config.NumKvHeads * d, mayHaveBias: true),
            Linear.Load(attention, backend, "o_proj", config.NumHeads * d, hidden),
            rope, config.NumHeads, config.NumKvHeads, d);
    }

    public void Forward(ReadOnlySpan<float> x, Span<float> y, int rows, int firstPosition, LayerKvCache cache, ForwardScratch scratch)
    {
        var qkv = scratch.QueryKeyValue(rows);
        _queryKeyValue.Forward(x, qkv, rows);
        var q = qkv[..(rows * query.OutFeatures)];
        var k = qkv.Slice(q.Length, rows * key.OutFeatures);
        var v = qkv.Slice(q.Length + k.Length, rows * value.OutFeatures);

        var positions = scratch.Positions.AsSpan(0, rows);
        for (int r = 0; r < rows; r++) positions[r] = firstPosition + r;
        backend.Rope(q, rows, heads, headDim, positions, rope);
        backend.Rope(k, rows, kvHeads, headDim, positions, rope);

        cache.Write(firstPosition, k, v);
        var attended = scratch.AttentionOutput(rows);
        backend.Attention(q, rows, firstPosition, cache, attended, heads, 1f / MathF.Sqrt(headDim));
        output.Forward(attended, y, rows);
    }
}
