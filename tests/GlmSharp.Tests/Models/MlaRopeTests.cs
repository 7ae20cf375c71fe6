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
/// MLA's RoPE convention, worked out by hand (tinygrad-style rigged weights): one head whose query rope part is A·e₀ and
/// whose cached rope key is e₁. With adjacent pairs (llama.cpp's NORM rope for deepseek2, on the weights as Hugging Face
/// stores them) e₀ and e₁ are one pair turning at frequency 1, so the score of position i for position j is
/// A·(cos i·(−sin j) + sin i·cos j) = A·sin(i − j). With split halves they would lie in different pairs, the scores would
/// be 0 and the weights uniform. The latent (the value) of position j is √2·(cos j, sin j), which its RMSNorm keeps, and
/// v_b and o_proj pass it through, so the output of row i is Σ_j softmax_j(A·sin(i − j)/√(nope + rope)) · latent_j.
/// </summary>
public sealed class MlaRopeTests
{
    private const int Hidden = 8, Nope = 2, Rope = 4, KvLora = 2, ValueDim = 2, Positions = 6;
    private const float A = 3f;

    [Fact]
    public void Query_And_Key_Rope_Parts_Turn_As_Adjacent_Pairs()
    {
        var config = MlaMoeConfig.Glm4MoeLiteFromJson(ConfigJson.Parse($$"""
            {"model_type": "glm4_moe_lite", "vocab_size": 8, "hidden_size": {{Hidden}}, "num_hidden_layers": 1, "num_attention_heads": 1,
             "num_key_value_heads": 1, "q_lora_rank": null, "kv_lora_rank": {{KvLora}}, "qk_nope_head_dim": {{Nope}}, "qk_rope_head_dim": {{Rope}},
             "v_head_dim": {{ValueDim}}, "intermediate_size": 4, "moe_intermediate_size": 4, "n_routed_experts": 2, "num_experts_per_tok": 1,
             "n_shared_experts": 0, "first_k_dense_replace": 1, "max_position_embeddings": 16, "rope_theta": 10000.0, "rms_norm_eps": 1e-6}
            """, "config.json"));
        var query = new float[(Nope + Rope) * Hidden];
        query[Nope * Hidden + 0] = A;                     // q_rope[0] = A·x₀
        var compress = new float[(KvLora + Rope) * Hidden];
        compress[0 * Hidden + 1] = 1;                     // latent = (x₁, x₂)
        compress[1 * Hidden + 2] = 1;
        compress[(KvLora + 1) * Hidden + 0] = 1;          // k_rope[1] = x₀
        var output = new float[Hidden * ValueDim];
        output[0 * ValueDim + 0] = 1;
        output[1 * ValueDim + 1] = 1;
        using var weights = new InMemoryTensorSource(new Dictionary<string, (long[], float[])>
        {
            ["q_proj.weight"] = ([Nope + Rope, Hidden], query),
            ["kv_a_proj_with_mqa.weight"] = ([KvLora + Rope, Hidden], compress),
            ["kv_a_layernorm.weight"] = ([KvLora], [1, 1]),
            ["k_b_proj.weight"] = ([1, KvLora, Nope], new float[KvLora * Nope]),
            ["v_b_proj.weight"] = ([1, ValueDim, KvLora], [1, 0, 0, 1]),
            ["o_proj.weight"] = ([Hidden, ValueDim], output),
        });
        var backend = CpuBackend.Instance;
        var rope = Glm4MoeLite.Rope(config);
        var attention = new MlaAttention(new WeightBuilder(weights, backend), backend, config, config.Mla, rope);

        var x = new float[Positions * Hidden];
        for (int j = 0; j < Positions; j++)
        {
            x[j * Hidden + 0] = 1;
            x[j * Hidden + 1] = MathF.Sqrt(2) * MathF.Cos(j);
            x[j * Hidden + 2] = MathF.Sqrt(2) * MathF.Sin(j);
        }
        using var cache = new PagedKvCache(new KvBlockPool([attention.CacheSpec], 1, 16, KvCacheType.F32, backend));
        int sequence = cache.CreateSequence();
        cache.Append([sequence], [Positions]);
        using var scratch = new ForwardScratch(backend, config, Positions);
        var y = backend.Allocate<float>(Positions * Hidden);
        var positions = Enumerable.Range(0, Positions).ToArray();
        var step = new ForwardStep(Positions, positions, new CacheRows(positions, new int[Positions], cache.BlockTable(sequence)), scratch);
        attention.Forward(x.On(backend), y, step, new LayerCache(cache.Pool, 0));
        var actual = backend.ToArray(y);

        double scale = 1 / Math.Sqrt(Nope + Rope);
        for (int i = 0; i < Positions; i++)
        {
            var weightsOf = Enumerable.Range(0, i + 1).Select(j => Math.Exp(A * Math.Sin(i - j) * scale)).ToArray();
            double total = weightsOf.Sum();
            double expected0 = Enumerable.Range(0, i + 1).Sum(j => weightsOf[j] / total * Math.Sqrt(2) * Math.Cos(j));
            double expected1 = Enumerable.Range(0, i + 1).Sum(j => weightsOf[j] / total * Math.Sqrt(2) * Math.Sin(j));
            Assert.True(Math.Abs(actual[i * Hidden + 0] - expected0) <= 1e-4 && Math.Abs(actual[i * Hidden + 1] - expected1) <= 1e-4,
                $"row {i}: ({actual[i * Hidden]}, {actual[i * Hidden + 1]}) vs ({expected0}, {expected1})");
        }
    }
}
