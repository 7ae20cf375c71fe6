using GlmSharp.Batching;
using GlmSharp.Configs;
using GlmSharp.Kernels;
using GlmSharp.Kernels.Cpu;
using GlmSharp.Kernels.Paging;
using GlmSharp.Models;
using GlmSharp.Models.Architectures;
using GlmSharp.Models.Blocks;
using GlmSharp.Tests.Support;

namespace GlmSharp.Tests.Models;

/// <summary>
/// GLM-5's sparse attention worked out by hand (tinygrad-style rigged weights), with top-k 1 so that each row's attention
/// output is exactly the value of the one position its indexer chose. The indexer query is A·e₀ and every position's
/// indexer key, after its LayerNorm, is s·(e₁ − e₃). With adjacent pairs (GLM-5's indexer_rope_interleave, llama.cpp's NORM
/// rope in glm-dsa) e₀ and e₁ turn together at frequency 1 and e₃ (pair 2, 3) never meets the query, so position t scores
/// A·s·sin(i − t) for row i, and the row keeps the t ≤ i that maximises it. With split halves the query and key would share
/// no pair, every score would be 0 and every row would keep position 0. MLA's latent of position j is √2·(cos j, sin j),
/// which v_b and o_proj pass through, so row i's output is √2·(cos t, sin t) of its chosen t — in the full layer, and in the
/// shared layer after it, which under IndexShare attends to the same positions without an indexer of its own.
/// </summary>
public sealed class DsaIndexerTests
{
    private const int Hidden = 8, QLora = 2, KvLora = 2, Nope = 2, Rope = 4, ValueDim = 2, Positions = 8;
    private const float A = 3f;

    [Fact]
    public void Full_And_Shared_Layers_Attend_To_The_Position_Whose_Adjacent_Pair_Rope_Scores_Best()
    {
        var config = GlmMoeDsaConfig.FromJson(ConfigJson.Parse($$"""
            {"model_type": "glm_moe_dsa", "vocab_size": 8, "hidden_size": {{Hidden}}, "num_hidden_layers": 2, "num_attention_heads": 1,
             "num_key_value_heads": 1, "q_lora_rank": {{QLora}}, "kv_lora_rank": {{KvLora}}, "qk_nope_head_dim": {{Nope}}, "qk_rope_head_dim": {{Rope}},
             "v_head_dim": {{ValueDim}}, "intermediate_size": 4, "moe_intermediate_size": 4, "n_routed_experts": 2, "num_experts_per_tok": 1,
             "n_shared_experts": 0, "first_k_dense_replace": 2, "max_position_embeddings": 16, "rope_theta": 10000.0, "rms_norm_eps": 1e-6,
             "index_n_heads": 1, "index_head_dim": {{Rope}}, "index_topk": 1, "indexer_types": ["full", "shared"]}
            """, "config.json"));
        using var weights = RiggedWeights();
        var backend = CpuBackend.Instance;
        var rope = GlmMoeDsa.Rope(config);
        var builder = new WeightBuilder(weights, backend);
        var indexer = new DsaIndexer(builder.At("indexer"), backend, config, config.Mla, config.Indexer, rope);
        var full = new MlaAttention(builder, backend, config, config.Mla, rope, indexer);
        var shared = new MlaAttention(builder, backend, config, config.Mla, rope, SharedKeySelection.Instance);
        Assert.Equal(2, full.CacheSpec.Streams.Count);
        Assert.Single(shared.CacheSpec.Streams);

        var x = new float[Positions * Hidden];
        for (int j = 0; j < Positions; j++)
        {
            x[j * Hidden + 0] = 1;
            x[j * Hidden + 1] = MathF.Sqrt(2) * MathF.Cos(j);
            x[j * Hidden + 2] = MathF.Sqrt(2) * MathF.Sin(j);
        }
        using var cache = new PagedKvCache(new KvBlockPool([full.CacheSpec, shared.CacheSpec], 1, 16, KvCacheType.F32, backend));
        int sequence = cache.CreateSequence();
        cache.Append([sequence], [Positions]);
        using var scratch = new ForwardScratch(backend, config, Positions);
        var positions = Enumerable.Range(0, Positions).ToArray();
        var step = new ForwardStep(Positions, positions, new CacheRows(positions, new int[Positions], cache.BlockTable(sequence)), scratch);
        var fullOut = backend.Allocate<float>(Positions * Hidden);
        var sharedOut = backend.Allocate<float>(Positions * Hidden);
        full.Forward(x.On(backend), fullOut, step, new LayerCache(cache.Pool, 0));
        shared.Forward(x.On(backend), sharedOut, step, new LayerCache(cache.Pool, 1));

        foreach (var (name, output) in new[] { ("full", backend.ToArray(fullOut)), ("shared", backend.ToArray(sharedOut)) })
            for (int i = 0; i < Positions; i++)
            {
                int chosen = Enumerable.Range(0, i + 1).MaxBy(t => Math.Sin(i - t));
                Assert.True(Math.Abs(output[i * Hidden + 0] - Math.Sqrt(2) * Math.Cos(chosen)) < 1e-4
                    && Math.Abs(output[i * Hidden + 1] - Math.Sqrt(2) * Math.Sin(chosen)) < 1e-4,
                    $"{name} layer, row {i}: ({output[i * Hidden]}, {output[i * Hidden + 1]}) is not position {chosen}'s latent");
            }
    }

    private static InMemoryTensorSource RiggedWeights()
    {
        var queryDown = new float[QLora * Hidden];
        queryDown[0] = 1;                                   // query latent = (x₀, 0)
        var compress = new float[(KvLora + Rope) * Hidden];
        compress[0 * Hidden + 1] = 1;                       // latent = (x₁, x₂); MLA's rope key 0
        compress[1 * Hidden + 2] = 1;
        var output = new float[Hidden * ValueDim];
        output[0 * ValueDim + 0] = 1;
        output[1 * ValueDim + 1] = 1;
        var indexerQuery = new float[Rope * QLora];
        indexerQuery[0] = A;                                // indexer q = A·(query latent)₀·e₀
        var indexerKey = new float[Rope * Hidden];
        indexerKey[1 * Hidden + 0] = 1;                     // indexer k = x₀·(e₁ − e₃) before its LayerNorm
        indexerKey[3 * Hidden + 0] = -1;
        var headWeight = new float[Hidden];
        headWeight[0] = 1;
        return new InMemoryTensorSource(new Dictionary<string, (long[], float[])>
        {
            ["q_a_proj.weight"] = ([QLora, Hidden], queryDown),
            ["q_a_layernorm.weight"] = ([QLora], [1, 1]),
            ["q_b_proj.weight"] = ([Nope + Rope, QLora], new float[(Nope + Rope) * QLora]),
            ["kv_a_proj_with_mqa.weight"] = ([KvLora + Rope, Hidden], compress),
            ["kv_a_layernorm.weight"] = ([KvLora], [1, 1]),
            ["k_b_proj.weight"] = ([1, KvLora, Nope], new float[KvLora * Nope]),
            ["v_b_proj.weight"] = ([1, ValueDim, KvLora], [1, 0, 0, 1]),
            ["o_proj.weight"] = ([Hidden, ValueDim], output),
            ["indexer.wq_b.weight"] = ([Rope, QLora], indexerQuery),
            ["indexer.wk.weight"] = ([Rope, Hidden], indexerKey),
            ["indexer.k_norm.weight"] = ([Rope], [1, 1, 1, 1]),
            ["indexer.weights_proj.weight"] = ([1, Hidden], headWeight),
        });
    }
}
