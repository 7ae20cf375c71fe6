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
public sealed class RandomMoeCheckpoint
{
    private readonly Dictionary<string, (long[] Shape, float[] Values)> _tensors = new();
    private readonly Random _random;

    public TinyMoeSpec Spec { get; }

    public RandomMoeCheckpoint(TinyMoeSpec spec, int seed)
    {
        Spec = spec;
        _random = new Random(seed);
        int h = spec.Hidden;
        Matrix("model.embed_tokens.weight", spec.Vocab, h, 1.0f);
        Norm("model.norm.weight", h);
        Matrix("lm_head.weight", spec.Vocab, h, 0.25f);
        for (int i = 0; i < spec.Layers + spec.NextN; i++) Layer(i, dense: i < spec.FirstDense);
        for (int i = spec.Layers; i < spec.Layers + spec.NextN; i++)
        {
            string p = $"model.layers.{i}.";
            Norm(p + "enorm.weight", h);
            Norm(p + "hnorm.weight", h);
            Matrix(p + "eh_proj.weight", h, 2 * h, 0.25f);
            Norm(p + "shared_head.norm.weight", h);
            Matrix(p + "shared_head.head.weight", spec.Vocab, h, 0.25f);
        }
    }

    private void Layer(int i, bool dense)
    {
        var s = Spec;
        int h = s.Hidden, q = s.Heads * s.HeadDim, kv = s.KvHeads * s.HeadDim;
        string p = $"model.layers.{i}.";
        Norm(p + "input_layernorm.weight", h);
        Matrix(p + "self_attn.q_proj.weight", q, h, 0.25f);
        Matrix(p + "self_attn.k_proj.weight", kv, h, 0.25f);
        Matrix(p + "self_attn.v_proj.weight", kv, h, 0.25f);
        if (s.Bias)
        {
            Vector(p + "self_attn.q_proj.bias", q, 0.5f);
            Vector(p + "self_attn.k_proj.bias", kv, 0.5f);
            Vector(p + "self_attn.v_proj.bias", kv, 0.5f);
        }
        if (s.QkNorm)
        {
            Norm(p + "self_attn.q_norm.weight", s.HeadDim);
            Norm(p + "self_attn.k_norm.weight", s.HeadDim);
        }
        Matrix(p + "self_attn.o_proj.weight", h, q, 0.25f);
        Norm(p + "post_attention_layernorm.weight", h);
        if (dense)
        {
            Mlp(p + "mlp.", s.DenseIntermediate);
            return;
        }
        Matrix(p + "mlp.gate.weight", s.Experts, h, 0.5f);
        Vector(p + "mlp.gate.e_score_correction_bias", s.Experts, 0.1f);
        for (int e = 0; e < s.Experts; e++) Mlp($"{p}mlp.experts.{e}.", s.ExpertWidth);
        if (s.SharedExperts > 0) Mlp(p + "mlp.shared_experts.", s.ExpertWidth * s.SharedExperts);
    }

    private void Mlp(string p, int width)
    {
        Matrix(p + "gate_proj.weight", width, Spec.Hidden, 0.25f);
        Matrix(p + "up_proj.weight", width, Spec.Hidden, 0.25f);
        Matrix(p + "down_proj.weight", Spec.Hidden, width, 0.25f);
    }

    private void Matrix(string name, int rows, int cols, float scale) => _tensors[name] = ([rows, cols], Uniform(rows * cols, -scale, scale));
    private void Vector(string name, int n, float scale) => _tensors[name] = ([n], Uniform(n, -scale, scale));
    private void Norm(string name, int n) => _tensors[name] = ([n], Uniform(n, 0.8f, 1.2f));

    private float[] Uniform(int n, float lo, float hi)
    {
        var v = new float[n];
        for (int i = 0; i < n; i++) v[i] = lo + (float)_random.NextDouble() * (hi - lo);
        return v;
    }

    public string WriteHuggingFace(string folder)
    {
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "config.json"), ConfigJsonText());
        var writer = new SafetensorsWriter();
        foreach (var (name, (shape, values)) in _tensors) writer.AddFloats(name, SafetensorsDtype.F32, shape, values);
        writer.WriteTo(Path.Combine(folder, "model.safetensors"));
        return folder;
    }

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
