using System.Globalization;
using System.Text.Json;
using GlmSharp.Formats.Safetensors;
using GlmSharp.Models;
using GlmSharp.Tensors;

namespace GlmSharp.Tests.Support;

/// <summary>
/// A random-weight GLM checkpoint held in memory under Hugging Face names, written out by our own GGUF and
/// safetensors writers so that llama.cpp and GlmSharp can both run it.
/// </summary>
public sealed class RandomGlmCheckpoint : IRandomCheckpoint
{
    public TinyGlmSpec Spec { get; }
    public IReadOnlyDictionary<string, (long[] Shape, float[] Values)> Tensors => _tensors;

    private readonly Dictionary<string, (long[] Shape, float[] Values)> _tensors = new();

    /// <param name="weightScale">Half-width of the uniform distribution of matrix weights; large enough that greedy picks are not near-ties.</param>
    public RandomGlmCheckpoint(TinyGlmSpec spec, int seed, float weightScale = 0.25f)
    {
        Spec = spec;
        var random = new Random(seed);
        int h = spec.Hidden, q = spec.Heads * spec.HeadDim, kv = spec.KvHeads * spec.HeadDim, inter = spec.Intermediate;
        Matrix("model.embed_tokens.weight", spec.Vocab, h, 1.0f);
        Norm("model.norm.weight", h);
        if (!spec.Tied) Matrix("lm_head.weight", spec.Vocab, h, weightScale);
        for (int i = 0; i < spec.Layers; i++)
        {
            string p = $"model.layers.{i}.";
            Norm(p + "input_layernorm.weight", h);
            Matrix(p + "self_attn.q_proj.weight", q, h, weightScale);
            Matrix(p + "self_attn.k_proj.weight", kv, h, weightScale);
            Matrix(p + "self_attn.v_proj.weight", kv, h, weightScale);
            if (spec.Bias)
            {
                Vector(p + "self_attn.q_proj.bias", q, 0.5f);
                Vector(p + "self_attn.k_proj.bias", kv, 0.5f);
                Vector(p + "self_attn.v_proj.bias", kv, 0.5f);
            }
            Matrix(p + "self_attn.o_proj.weight", h, q, weightScale);
            Norm(p + "post_attention_layernorm.weight", h);
            Matrix(p + "mlp.gate_up_proj.weight", 2 * inter, h, weightScale);
            Matrix(p + "mlp.down_proj.weight", h, inter, weightScale);
            if (spec.ModelType == "glm4")
            {
                Norm(p + "post_self_attn_layernorm.weight", h);
                Norm(p + "post_mlp_layernorm.weight", h);
            }
        }

        void Matrix(string name, int rows, int cols, float scale) => _tensors[name] = ([rows, cols], Uniform(rows * cols, -scale, scale));
        void Vector(string name, int n, float scale) => _tensors[name] = ([n], Uniform(n, -scale, scale));
        void Norm(string name, int n) => _tensors[name] = ([n], Uniform(n, 0.8f, 1.2f));
        float[] Uniform(int n, float lo, float hi)
        {
            var v = new float[n];
            for (int i = 0; i < n; i++) v[i] = lo + (float)random.NextDouble() * (hi - lo);
            return v;
        }
    }

    /// <summary>The same checkpoint with every value rounded through <paramref name="type"/> (e.g. to BF16) and back.</summary>
    public RandomGlmCheckpoint RoundedTo(GgmlType type)
    {
        var rounded = new RandomGlmCheckpoint(Spec);
        foreach (var (name, (shape, values)) in _tensors)
        {
            var encoded = new byte[GgmlTypeInfo.RowByteSize(type, values.Length)];
            var back = new float[values.Length];
            TensorCodec.QuantizeRow(type, values, encoded);
            TensorCodec.DequantizeRow(type, encoded, back);
            rounded._tensors[name] = (shape, back);
        }
        return rounded;
    }

    /// <summary>The same checkpoint with the named tensors' values replaced (shapes unchanged).</summary>
    public RandomGlmCheckpoint WithValues(IReadOnlyDictionary<string, float[]> replaced)
    {
        var copy = new RandomGlmCheckpoint(Spec);
        foreach (var (name, (shape, values)) in _tensors)
            copy._tensors[name] = (shape, replaced.TryGetValue(name, out var v) ? v : values);
        return copy;
    }

    /// <summary>The same checkpoint with one tensor added, or replaced whatever its shape.</summary>
    public RandomGlmCheckpoint With(string name, (long[] Shape, float[] Values) tensor)
    {
        var copy = WithValues(new Dictionary<string, float[]>());
        copy._tensors[name] = tensor;
        return copy;
    }

    /// <summary>
    /// The same weights with each layer's q, k and v projections (and biases) stored as one tensor, q rows then k then v,
    /// as llama.cpp's attn_qkv; <see cref="WriteGguf(string, GgmlType)"/> then writes blk.N.attn_qkv.
    /// </summary>
    public RandomGlmCheckpoint WithFusedQkv()
    {
        var fused = new RandomGlmCheckpoint(Spec);
        foreach (var (name, tensor) in _tensors)
            if (!name.Contains(".self_attn.q_proj.", StringComparison.Ordinal)
                && !name.Contains(".self_attn.k_proj.", StringComparison.Ordinal)
                && !name.Contains(".self_attn.v_proj.", StringComparison.Ordinal))
                fused._tensors[name] = tensor;
        for (int i = 0; i < Spec.Layers; i++)
            foreach (var kind in Spec.Bias ? new[] { "weight", "bias" } : ["weight"])
            {
                var parts = new[] { "q_proj", "k_proj", "v_proj" }.Select(p => _tensors[$"model.layers.{i}.self_attn.{p}.{kind}"]).ToArray();
                long[] shape = [.. parts[0].Shape];
                shape[0] = parts.Sum(p => p.Shape[0]);
                fused._tensors[$"model.layers.{i}.{GlmTensorNames.FusedQkv}.{kind}"] = (shape, [.. parts.SelectMany(p => p.Values)]);
            }
        return fused;
    }

    private RandomGlmCheckpoint(TinyGlmSpec spec) => Spec = spec;

    /// <summary>Writes a GGUF through <see cref="GgufExporter"/> (what `glm convert` runs), without a vocabulary:
    /// llama.cpp then takes token ids directly (tokenizer "none").</summary>
    public string WriteGguf(string path, GgmlType matrixType) => WriteGguf(path, QuantizationScheme.Uniform(matrixType));

    public string WriteGguf(string path, QuantizationScheme scheme)
    {
        IArchitecture architecture = ModelRegistry.ByModelType(Spec.ModelType, "test");
        using var source = new InMemoryTensorSource(_tensors);
        GgufExporter.Write(architecture, HfConfig(), source, vocabulary: null, path, scheme, "tiny random " + Spec);
        return path;
    }

    /// <summary>Writes config.json and model.safetensors into a folder, as a Hugging Face checkpoint.</summary>
    public string WriteHuggingFace(string folder, SafetensorsDtype type = SafetensorsDtype.F32)
    {
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "config.json"), ConfigJsonText());
        var writer = new SafetensorsWriter();
        foreach (var (name, (shape, values)) in _tensors) writer.AddFloats(name, type, shape, values);
        writer.WriteTo(Path.Combine(folder, "model.safetensors"));
        return folder;
    }

    public string ConfigJsonText()
    {
        var config = ConfigFields();
        if (Spec.Yarn is { } yarn)
            config["rope_scaling"] = new Dictionary<string, object>
            {
                ["type"] = "yarn",
                ["factor"] = yarn.Factor,
                ["original_max_position_embeddings"] = yarn.OriginalContext,
            };
        return JsonSerializer.Serialize(config);
    }

    private Dictionary<string, object> ConfigFields() => new()
    {
        ["architectures"] = new[] { Spec.ModelType == "glm4" ? "Glm4ForCausalLM" : "GlmForCausalLM" },
        ["model_type"] = Spec.ModelType,
        ["vocab_size"] = Spec.Vocab,
        ["hidden_size"] = Spec.Hidden,
        ["num_hidden_layers"] = Spec.Layers,
        ["num_attention_heads"] = Spec.Heads,
        ["num_key_value_heads"] = Spec.KvHeads,
        ["head_dim"] = Spec.HeadDim,
        ["intermediate_size"] = Spec.Intermediate,
        ["partial_rotary_factor"] = Spec.PartialRotary,
        ["attention_bias"] = Spec.Bias,
        ["tie_word_embeddings"] = Spec.Tied,
        ["max_position_embeddings"] = Spec.Context,
        ["rope_theta"] = Spec.RopeTheta,
        ["rms_norm_eps"] = Spec.RmsEps,
        ["eos_token_id"] = new[] { Spec.Vocab - 1 },
    };

    public Configs.ModelConfig HfConfig() => Configs.HfConfigLoader.Parse(Configs.ConfigJson.Parse(ConfigJsonText(), "config.json"));

    public static string Ids(IEnumerable<int> ids) => string.Join(",", ids.Select(i => i.ToString(CultureInfo.InvariantCulture)));
}
