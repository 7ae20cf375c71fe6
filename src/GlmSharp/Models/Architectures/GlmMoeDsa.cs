using GlmSharp.Configs;
using GlmSharp.Errors;
using GlmSharp.Formats;
using GlmSharp.Kernels;
using GlmSharp.Models.Blocks;

namespace GlmSharp.Models.Architectures;

/// <summary>
/// GLM-5 / 5.1 / 5.2 / 5.3 (<c>model_type: "glm_moe_dsa"</c>, llama.cpp <c>glm-dsa</c>): GLM-4.7-Flash's block —
///   h   = x + MLA(input_layernorm(x))
///   out = h + FFN(post_attention_layernorm(h))
/// with DeepSeek sparse attention (DeepSeek-V3.2, arXiv 2512.02556): a lightning indexer (<see cref="DsaIndexer"/>)
/// scores every cached position for each query from MLA's query latent and the hidden state, and the absorbed MLA
/// (<see cref="MlaAttention"/>, which requires the query bottleneck here) attends to the index_topk best only — exactly
/// dense attention while a sequence is no longer than index_topk. IndexShare (GLM-5.2+, arXiv 2603.12201): only "full"
/// layers run an indexer; a "shared" layer reuses the last full layer's choice (<see cref="SharedKeySelection"/>) and
/// ships no indexer weights. The FFN is glm4_moe's: SwiGLU in the first first_k_dense_replace layers, then sigmoid-routed
/// experts plus a shared one. Both the MLA and the indexer RoPE turn adjacent pairs (rope_interleave and
/// indexer_rope_interleave; ggml's NORM rope in llama.cpp's graph). The multi-token-prediction layer (layer
/// num_hidden_layers) is <see cref="CausalLm.NextN"/>: a block of this architecture with an indexer of its own, as GLM-5
/// ships it, that drafts for speculative decoding and that the main forward pass never runs. llama.cpp's glm-dsa draft
/// graph leaves its indexer out and attends densely, which gives the same logits while a sequence is no longer than
/// index_topk.
/// </summary>
public sealed class GlmMoeDsa : IArchitecture
{
    public string ModelType => "glm_moe_dsa";
    public IReadOnlyList<string> HfModelTypes => [ModelType];
    public string GgufArchitecture => "glm-dsa";

    /// <summary>GLM-5.2's llama.cpp default when a file of 1M context names no indexer types (its converter's IndexShare schedule).</summary>
    private const int LongContextWithIndexShare = 1_048_576, IndexShareFrequency = 4, IndexShareOffset = 3;

    public IReadOnlyList<TensorNamePair> LayerTensorNames { get; } =
    [
        .. Glm4MoeLite.LayerNames,
        new("self_attn.indexer.wq_b.weight", "indexer.attn_q_b.weight"),
        new("self_attn.indexer.wk.weight", "indexer.attn_k.weight"),
        new("self_attn.indexer.k_norm.weight", "indexer.k_norm.weight"),
        new("self_attn.indexer.k_norm.bias", "indexer.k_norm.bias"),
        new("self_attn.indexer.weights_proj.weight", "indexer.proj.weight"),
    ];

    /// <summary>GGUF names of the indexer tensors a full layer must carry (the k_norm bias is optional, as in llama.cpp).</summary>
    private static readonly string[] RequiredIndexerTensors = ["indexer.attn_q_b.weight", "indexer.attn_k.weight", "indexer.k_norm.weight", "indexer.proj.weight"];

    public ModelConfig ConfigFromHf(ConfigJson json)
    {
        if (json.OptBool("indexer_rope_interleave") is false)
            throw new UnsupportedModelException($"{json.Origin}: indexer_rope_interleave false (DeepSeek-V3.2's split-half indexer RoPE) is not supported; GLM-5 turns adjacent pairs");
        var config = GlmMoeDsaConfig.FromJson(json);
        MlaConfigRules.CheckHf(json, config);
        return Checked(config with { RopeScaling = RopeScalingField.Read(json, config.MaxPositions) }, json.Origin);
    }

    public ModelConfig ConfigFromGguf(GgufModelMetadata gguf)
    {
        string a = GgufArchitecture, origin = gguf.Origin;
        var (fields, nextN) = NextNGgufKeys.Read(gguf, gguf.DenseConfig(ModelType));
        var mla = MlaGgufKeys.Read(gguf);
        int layers = fields.NumLayers;
        var indexer = new DsaIndexerShape
        {
            Heads = gguf.Int("attention.indexer.head_count"),
            HeadDim = gguf.Int("attention.indexer.key_length"),
            TopK = gguf.Int("attention.indexer.top_k"),
            FullLayers = IndexerTypes(gguf, layers, fields.MaxPositions),
        };
        for (int layer = 0; layer < layers; layer++)
            if (indexer.FullLayers[layer])
                foreach (var tensor in RequiredIndexerTensors)
                    if (!gguf.HasTensor($"blk.{layer}.{tensor}"))
                        throw new ModelFormatException($"{origin}: tensor 'blk.{layer}.{tensor}' is missing ({a}.attention.indexer.types makes layer {layer} a full indexer layer)");
        return Checked(new GlmMoeDsaConfig(MlaConfigRules.FromGguf(fields, mla), mla, MoeGgufKeys.Read(gguf), indexer, nextN), origin);
    }

    /// <summary>
    /// llama.cpp's reading of <c>attention.indexer.types</c> (1 full, 0 shared per layer): without the key, every layer of
    /// a GLM-5 / 5.1 file indexes, and a file of 1M context (GLM-5.2) takes the IndexShare schedule.
    /// </summary>
    private bool[] IndexerTypes(GgufModelMetadata gguf, int layers, int context)
    {
        string key = $"{GgufArchitecture}.attention.indexer.types";
        if (gguf.OptInts("attention.indexer.types") is not { } types)
            return context >= LongContextWithIndexShare
                ? DsaIndexerShape.Schedule(layers, IndexShareFrequency, IndexShareOffset)
                : [.. Enumerable.Repeat(true, layers)];
        if (types.Length < layers)
            throw new ModelFormatException($"{gguf.Origin}: {key} has {types.Length} entries for {layers} layers");
        foreach (int type in types)
            if (type is not (0 or 1))
                throw new ModelFormatException($"{gguf.Origin}: {key} holds {type}; each layer is 1 (full) or 0 (shared)");
        return [.. types.Take(layers).Select(t => t == 1)];
    }

    /// <summary>MLA's rules, the indexer's head sizes and schedule, and the query latent the indexer reads.</summary>
    private static GlmMoeDsaConfig Checked(GlmMoeDsaConfig c, string origin)
    {
        MlaConfigRules.Check(c, c.Mla, origin);
        if (c.Mla.QLoraRank is null)
            throw new ModelFormatException($"{origin}: glm_moe_dsa needs q_lora_rank: the DSA indexer projects its queries from the query latent");
        var ix = c.Indexer;
        if (ix.Heads < 1 || ix.Heads > ModelConfigLimits.MaxHeads)
            throw new ModelFormatException($"{origin}: index_n_heads {ix.Heads} is outside [1, {ModelConfigLimits.MaxHeads}]");
        if (ix.HeadDim < c.Mla.QkRopeHeadDim || ix.HeadDim > ModelConfigLimits.MaxHeadDim)
            throw new ModelFormatException($"{origin}: index_head_dim {ix.HeadDim} must hold the rope part (qk_rope_head_dim {c.Mla.QkRopeHeadDim}), at most {ModelConfigLimits.MaxHeadDim}");
        if (ix.TopK < 1 || ix.TopK > ModelConfigLimits.MaxContext)
            throw new ModelFormatException($"{origin}: index_topk {ix.TopK} is outside [1, {ModelConfigLimits.MaxContext}]");
        if (ix.FullLayers.Length != c.NumLayers)
            throw new ModelFormatException($"{origin}: the indexer schedule has {ix.FullLayers.Length} layers, the model {c.NumLayers}");
        if (!ix.FullLayers[0])
            throw new ModelFormatException($"{origin}: layer 0 is a shared indexer layer, but a shared layer reuses the choice of a full layer before it");
        return c;
    }

    public Dictionary<string, object> GgufMetadata(ModelConfig config)
    {
        var c = (GlmMoeDsaConfig)config;
        string a = GgufArchitecture;
        var keys = NextNGgufKeys.DenseKeys(c, c.NextNLayers, a);
        MlaGgufKeys.Write(keys, a, c.Mla);
        MoeGgufKeys.Write(keys, a, c.Moe);
        keys[$"{a}.attention.indexer.head_count"] = (uint)c.Indexer.Heads;
        keys[$"{a}.attention.indexer.key_length"] = (uint)c.Indexer.HeadDim;
        keys[$"{a}.attention.indexer.top_k"] = (uint)c.Indexer.TopK;
        keys[$"{a}.attention.indexer.types"] = c.Indexer.FullLayers.Select(full => full ? 1u : 0u).ToArray();
        return keys;
    }

    public ITensorSource Sanitize(ITensorSource weights, ConfigJson? hfConfig, ModelConfig config) => MlaConfigRules.ReadLayers(weights, config);

    /// <summary>Adjacent pairs over the qk_rope_head_dim rotary dims, for MLA and the indexer alike (ggml NORM rope in llama.cpp's glm-dsa).</summary>
    public static RopeTable Rope(GlmMoeDsaConfig config) => MlaConfigRules.Rope(config, config.Mla);

    public CausalLm Build(ModelConfig config, ITensorSource owner, WeightBuilder weights)
    {
        var c = (GlmMoeDsaConfig)config;
        var rope = Rope(c);
        var backend = weights.Backend;
        return CausalLm.FromLayers(c, owner, weights, rope, Layer, MtpLayer.After(c, weights, Layer));

        IDecoderLayer Layer(WeightBuilder w, int layer)
        {
            var attention = w.At("self_attn");
            IKeySelector selector = c.Indexer.IsFull(layer)
                ? new DsaIndexer(attention.At("indexer"), backend, c, c.Mla, c.Indexer, rope)
                : SharedKeySelection.Instance;
            return new PreNormMoeDecoderLayer(new MlaAttention(attention, backend, c, c.Mla, rope, selector), w, backend, c, c.Moe, layer);
        }
    }
}
