using System.Text.Json;
using GlmSharp.Formats.Safetensors;
using GlmSharp.Models;
using GlmSharp.Tensors;

namespace GlmSharp.Tests.Support;

/// <summary>The shape of a tiny random glm4_moe model.</summary>
public sealed record TinyMoeSpec(
    int Vocab, int Hidden, int Layers, int Heads, int KvHeads, int HeadDim, int DenseIntermediate,
    int Experts, int ExpertsPerToken, int ExpertWidth, int SharedExperts, int FirstDense,
    int Groups = 1, int GroupsKept = 1, double Scaling = 1.0, bool NormTopk = true, bool QkNorm = false, bool Bias = true,
    int NextN = 0, double PartialRotary = 0.5, int Context = 96)
{
    public int[] RandomPrompt(int length, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, length).Select(_ => random.Next(Vocab)).ToArray();
    }
}

/// <summary>
/// A random-weight glm4_moe checkpoint under Hugging Face names (one tensor per expert, as on disk), written as a
/// safetensors folder or, through <see cref="GgufExporter"/>, as a GGUF with llama.cpp's merged expert tensors.
/// With NextN, a multi-token-prediction layer follows the stack (index Layers), as GLM-4.5 ships it.
/// </summary>
public sealed class RandomMoeCheckpoint : IRandomCheckpoint
{
    private readonly Dictionary<string, (long[] Shape, float[] Values)> _tensors = new();
    private readonly RandomTensors _random;

    public TinyMoeSpec Spec { get; }
    public IReadOnlyDictionary<string, (long[] Shape, float[] Values)> Tensors => _tensors;

    public RandomMoeCheckpoint(TinyMoeSpec spec, int seed)
    {
        Spec = spec;
        _random = new RandomTensors(_tensors, seed);
        int h = spec.Hidden;
        _random.EmbeddingAndHead(spec.Vocab, h);
        for (int i = 0; i < spec.Layers + spec.NextN; i++) Layer(i, dense: i < spec.FirstDense);
        for (int i = spec.Layers; i < spec.Layers + spec.NextN; i++) NextNTensors.AddParts(_random, i, spec.Vocab, h);
    }

    /// <summary>The NextN layer made a decent drafter (<see cref="NextNTensors.MakeAgree"/>).</summary>
    public RandomMoeCheckpoint WithAgreeingNextN(float blockScale)
    {
        NextNTensors.MakeAgree(_tensors, Spec.Layers, Spec.Hidden, blockScale);
        return this;
    }

    private RandomMoeCheckpoint(TinyMoeSpec spec, Dictionary<string, (long[] Shape, float[] Values)> tensors)
    {
        Spec = spec;
        _tensors = tensors;
        _random = new RandomTensors(_tensors, 0);
    }

    /// <summary>The NextN layer as a one-layer glm4_moe model of its own (<see cref="NextNTensors.AsModel"/>).</summary>
    public RandomMoeCheckpoint NextNAsModel(Func<int, float[]> hiddenOf)
    {
        var s = Spec;
        return new RandomMoeCheckpoint(s with { Layers = 1, FirstDense = 0, NextN = 0 }, NextNTensors.AsModel(_tensors, s.Layers, s.Vocab, s.Hidden, hiddenOf));
    }

    private void Layer(int i, bool dense)
    {
        var s = Spec;
        int h = s.Hidden, q = s.Heads * s.HeadDim, kv = s.KvHeads * s.HeadDim;
        string p = $"model.layers.{i}.";
        _random.Norm(p + "input_layernorm.weight", h);
        _random.Matrix(p + "self_attn.q_proj.weight", q, h, 0.25f);
        _random.Matrix(p + "self_attn.k_proj.weight", kv, h, 0.25f);
        _random.Matrix(p + "self_attn.v_proj.weight", kv, h, 0.25f);
        if (s.Bias)
        {
            _random.Vector(p + "self_attn.q_proj.bias", q, 0.5f);
            _random.Vector(p + "self_attn.k_proj.bias", kv, 0.5f);
            _random.Vector(p + "self_attn.v_proj.bias", kv, 0.5f);
        }
        if (s.QkNorm)
        {
            _random.Norm(p + "self_attn.q_norm.weight", s.HeadDim);
            _random.Norm(p + "self_attn.k_norm.weight", s.HeadDim);
        }
        _random.Matrix(p + "self_attn.o_proj.weight", h, q, 0.25f);
        _random.Norm(p + "post_attention_layernorm.weight", h);
        if (dense)
        {
            _random.SwiGlu(p + "mlp.", s.DenseIntermediate, Spec.Hidden);
            return;
        }
        _random.Experts(p + "mlp.", s.Experts, s.ExpertWidth, s.SharedExperts, h);
    }

    /// <summary>The same checkpoint with every value, norms and biases included, rounded through <paramref name="type"/> (e.g. BF16) and back.</summary>
    public RandomMoeCheckpoint RoundedTo(GgmlType type) =>
        WithValues(_tensors.ToDictionary(t => t.Key, t =>
        {
            var encoded = new byte[GgmlTypeInfo.RowByteSize(type, t.Value.Values.Length)];
            var back = new float[t.Value.Values.Length];
            TensorCodec.QuantizeRow(type, t.Value.Values, encoded);
            TensorCodec.DequantizeRow(type, encoded, back);
            return back;
        }));

    /// <summary>The same checkpoint with the named tensors' values replaced (shapes unchanged).</summary>
    public RandomMoeCheckpoint WithValues(IReadOnlyDictionary<string, float[]> replaced) =>
        new(Spec, _tensors.ToDictionary(t => t.Key, t => (t.Value.Shape, replaced.TryGetValue(t.Key, out var v) ? v : t.Value.Values)));

    public string WriteHuggingFace(string folder, SafetensorsDtype type = SafetensorsDtype.F32) => RandomTensors.WriteHuggingFace(_tensors, ConfigJsonText(), folder, type);

    public string WriteGguf(string path, GgmlType matrixType) => WriteGguf(path, QuantizationScheme.Uniform(matrixType));

    public string WriteGguf(string path, QuantizationScheme scheme)
    {
        var architecture = ModelRegistry.ByModelType("glm4_moe", "test");
        using var source = new InMemoryTensorSource(_tensors);
        var config = Configs.HfConfigLoader.Parse(Configs.ConfigJson.Parse(ConfigJsonText(), "config.json"));
        GgufExporter.Write(architecture, config, source, vocabulary: null, path, scheme, "tiny random glm4_moe");
        return path;
    }

    public string ConfigJsonText()
    {
        var s = Spec;
        return JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["architectures"] = new[] { "Glm4MoeForCausalLM" },
            ["model_type"] = "glm4_moe",
            ["vocab_size"] = s.Vocab,
            ["hidden_size"] = s.Hidden,
            ["num_hidden_layers"] = s.Layers,
            ["num_attention_heads"] = s.Heads,
            ["num_key_value_heads"] = s.KvHeads,
            ["head_dim"] = s.HeadDim,
            ["intermediate_size"] = s.DenseIntermediate,
            ["moe_intermediate_size"] = s.ExpertWidth,
            ["n_routed_experts"] = s.Experts,
            ["n_shared_experts"] = s.SharedExperts,
            ["num_experts_per_tok"] = s.ExpertsPerToken,
            ["first_k_dense_replace"] = s.FirstDense,
            ["n_group"] = s.Groups,
            ["topk_group"] = s.GroupsKept,
            ["routed_scaling_factor"] = s.Scaling,
            ["norm_topk_prob"] = s.NormTopk,
            ["use_qk_norm"] = s.QkNorm,
            ["attention_bias"] = s.Bias,
            ["num_nextn_predict_layers"] = s.NextN,
            ["partial_rotary_factor"] = s.PartialRotary,
            ["max_position_embeddings"] = s.Context,
            ["rope_theta"] = 10000.0,
            ["rms_norm_eps"] = 1e-5,
            ["tie_word_embeddings"] = false,
            ["eos_token_id"] = new[] { s.Vocab - 1 },
        });
    }
}
