using System.Text.Json;
using GlmSharp.Models;
using GlmSharp.Tensors;
using GlmSharp.Tokenizers;

namespace GlmSharp.Tests.Support;

/// <summary>
/// The shape of a tiny random glm4_moe_lite (MLA + MoE) model; a null <see cref="QLora"/> projects queries directly. With
/// <see cref="Dsa"/> it is a glm_moe_dsa (GLM-5) model instead.
/// </summary>
public sealed record TinyMlaSpec(
    int Vocab, int Hidden, int Layers, int Heads, int? QLora, int KvLora, int Nope, int Rope, int ValueDim, int DenseIntermediate,
    int Experts, int ExpertsPerToken, int ExpertWidth, int SharedExperts, int FirstDense,
    int Groups = 1, int GroupsKept = 1, double Scaling = 1.0, bool NormTopk = true, int NextN = 0, int Context = 96, TinyDsaSpec? Dsa = null)
{
    public string ModelType => Dsa is null ? "glm4_moe_lite" : "glm_moe_dsa";
    public string GgufArchitecture => Dsa is null ? "deepseek2" : "glm-dsa";

    public int[] RandomPrompt(int length, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, length).Select(_ => random.Next(Vocab)).ToArray();
    }
}

/// <summary>
/// A glm_moe_dsa lightning indexer: its heads and key width, the positions each query keeps, and per main layer 'F' (a
/// full layer with its own indexer) or 'S' (a shared layer reusing the last full layer's choice).
/// </summary>
public sealed record TinyDsaSpec(int Heads, int TopK, string Layers, int HeadDim = 128)
{
    public bool IsFull(int layer) => layer >= Layers.Length || Layers[layer] == 'F';
}

/// <summary>How a GGUF holds each layer's kv_b_proj: split per head for the absorbed form (llama.cpp's current converter), or fused (older files).</summary>
public enum MlaGgufLayout
{
    SplitKeyValue,
    FusedKeyValue,
}

/// <summary>
/// A random-weight glm4_moe_lite (or, with a DSA spec, glm_moe_dsa) checkpoint under Hugging Face names (DeepSeek-V2's
/// attention names, GLM-5's indexer names, one tensor per expert), written as a safetensors folder or, through
/// <see cref="GgufExporter"/>, as a deepseek2 (glm-dsa) GGUF in either kv_b layout.
/// With NextN, a multi-token-prediction layer follows the stack (index Layers), as GLM-4.7-Flash and GLM-5 ship it: a
/// decoder layer (MoE, with an indexer for glm_moe_dsa) and its own norms, projection and head. Its random values are
/// drawn after the main stack's, so a spec with and without NextN gives the same main model.
/// </summary>
public sealed class RandomMlaCheckpoint : IRandomCheckpoint
{
    private readonly Dictionary<string, (long[] Shape, float[] Values)> _tensors = new();
    private readonly RandomTensors _random;

    public TinyMlaSpec Spec { get; }
    public IReadOnlyDictionary<string, (long[] Shape, float[] Values)> Tensors => _tensors;

    public RandomMlaCheckpoint(TinyMlaSpec spec, int seed)
    {
        Spec = spec;
        _random = new RandomTensors(_tensors, seed);
        int h = spec.Hidden;
        _random.EmbeddingAndHead(spec.Vocab, h);
        for (int i = 0; i < spec.Layers + spec.NextN; i++) Layer(i, dense: i < spec.FirstDense);
        for (int i = spec.Layers; i < spec.Layers + spec.NextN; i++) NextNTensors.AddParts(_random, i, spec.Vocab, h);
    }

    /// <summary>The NextN layer made a decent drafter (<see cref="NextNTensors.MakeAgree"/>).</summary>
    public RandomMlaCheckpoint WithAgreeingNextN(float blockScale)
    {
        NextNTensors.MakeAgree(_tensors, Spec.Layers, Spec.Hidden, blockScale);
        return this;
    }

    /// <summary>
    /// The NextN layer as a one-layer model of its own (<see cref="NextNTensors.AsModel"/>), a full indexer layer for
    /// glm_moe_dsa: the layer's own indexer.
    /// </summary>
    public RandomMlaCheckpoint NextNAsModel(Func<int, float[]> hiddenOf)
    {
        var s = Spec;
        var single = s with { Layers = 1, FirstDense = 0, NextN = 0, Dsa = s.Dsa is null ? null : s.Dsa with { Layers = "F" } };
        return new RandomMlaCheckpoint(single, NextNTensors.AsModel(_tensors, s.Layers, s.Vocab, s.Hidden, hiddenOf));
    }

    private RandomMlaCheckpoint(TinyMlaSpec spec, Dictionary<string, (long[] Shape, float[] Values)> tensors)
    {
        Spec = spec;
        _tensors = tensors;
        _random = new RandomTensors(_tensors, seed: 0);
    }

    /// <summary>The same checkpoint with some tensors' values replaced (the real weights of an FP8 copy, say).</summary>
    public RandomMlaCheckpoint WithValues(IReadOnlyDictionary<string, float[]> replaced) =>
        new(Spec, _tensors.ToDictionary(t => t.Key, t => (t.Value.Shape, replaced.TryGetValue(t.Key, out var v) ? v : t.Value.Values)));

    private void Layer(int i, bool dense)
    {
        var s = Spec;
        int h = s.Hidden, qkHead = s.Nope + s.Rope;
        string p = $"model.layers.{i}.";
        _random.Norm(p + "input_layernorm.weight", h);
        string a = p + "self_attn.";
        if (s.QLora is int qLora)
        {
            _random.Matrix(a + "q_a_proj.weight", qLora, h, 0.25f);
            _random.Norm(a + "q_a_layernorm.weight", qLora);
            _random.Matrix(a + "q_b_proj.weight", s.Heads * qkHead, qLora, 0.25f);
        }
        else _random.Matrix(a + "q_proj.weight", s.Heads * qkHead, h, 0.25f);
        _random.Matrix(a + "kv_a_proj_with_mqa.weight", s.KvLora + s.Rope, h, 0.25f);
        _random.Norm(a + "kv_a_layernorm.weight", s.KvLora);
        _random.Matrix(a + "kv_b_proj.weight", s.Heads * (s.Nope + s.ValueDim), s.KvLora, 0.25f);
        _random.Matrix(a + "o_proj.weight", h, s.Heads * s.ValueDim, 0.25f);
        if (s.Dsa is { } dsa && dsa.IsFull(i)) Indexer(a + "indexer.", dsa);
        _random.Norm(p + "post_attention_layernorm.weight", h);
        if (dense)
        {
            _random.SwiGlu(p + "mlp.", s.DenseIntermediate, Spec.Hidden);
            return;
        }
        _random.Experts(p + "mlp.", s.Experts, s.ExpertWidth, s.SharedExperts, h);
    }

    /// <summary>The indexer weights of a full layer, under GLM-5's Hugging Face names.</summary>
    private void Indexer(string prefix, TinyDsaSpec dsa)
    {
        var s = Spec;
        _random.Matrix(prefix + "wq_b.weight", dsa.Heads * dsa.HeadDim, s.QLora ?? throw new InvalidOperationException("a DSA model needs q_lora_rank"), 0.25f);
        _random.Matrix(prefix + "wk.weight", dsa.HeadDim, s.Hidden, 0.25f);
        _random.Norm(prefix + "k_norm.weight", dsa.HeadDim);
        _random.Vector(prefix + "k_norm.bias", dsa.HeadDim, 0.1f);
        _random.Matrix(prefix + "weights_proj.weight", dsa.Heads, s.Hidden, 0.25f);
    }

    public string WriteHuggingFace(string folder) => RandomTensors.WriteHuggingFace(_tensors, ConfigJsonText(), folder);

    /// <summary>
    /// The model as `glm convert` writes it: for glm-dsa with its NextN layers (blk.{Layers}: its MLA, indexer and MoE
    /// tensors and blk.N.nextn.*, block_count counting it), for deepseek2 without, unless <paramref name="nextNBlocks"/>
    /// asks for them as llama.cpp's newer converter writes them (<see cref="NextNBlocksArchitecture"/>). With
    /// <paramref name="vocabulary"/> the file carries a tokenizer. The split layout is computed here,
    /// apart from the engine, as the converter defines it: head h's nope rows of kv_b transposed ([kv_lora, nope]) and its
    /// value rows as they are. The fused layout keeps kv_b and describes the heads with the older keys (every head its
    /// own key and value: head_count_kv = heads, key_length = nope + rope, value_length = v, no *_mla keys).
    /// </summary>
    public string WriteGguf(string path, GgmlType matrixType, MlaGgufLayout layout = MlaGgufLayout.SplitKeyValue, bool nextNBlocks = false,
        TokenizerVocabulary? vocabulary = null)
    {
        var s = Spec;
        var architecture = ModelRegistry.ByModelType(s.ModelType, "test");
        if (nextNBlocks) architecture = new NextNBlocksArchitecture(architecture);
        var tensors = new Dictionary<string, (long[] Shape, float[] Values)>(_tensors);
        if (layout == MlaGgufLayout.SplitKeyValue)
            foreach (var name in tensors.Keys.Where(n => n.EndsWith("kv_b_proj.weight", StringComparison.Ordinal)).ToArray())
            {
                var (keyUp, valueUp) = SplitKeyValue(tensors[name].Values);
                tensors.Remove(name);
                tensors[name.Replace("kv_b_proj", "k_b_proj")] = ([s.Heads, s.KvLora, s.Nope], keyUp);
                tensors[name.Replace("kv_b_proj", "v_b_proj")] = ([s.Heads, s.ValueDim, s.KvLora], valueUp);
            }
        using var source = new InMemoryTensorSource(tensors);
        var config = Configs.HfConfigLoader.Parse(Configs.ConfigJson.Parse(ConfigJsonText(), "config.json"));
        string written = layout == MlaGgufLayout.SplitKeyValue ? path : path + ".split";
        GgufExporter.Write(architecture, config, source, vocabulary, written, QuantizationScheme.Uniform(matrixType), $"tiny random {s.ModelType}");
        if (layout == MlaGgufLayout.SplitKeyValue) return path;
        GgufRewrite.WithMetadata(written, path, new Dictionary<string, object?>
        {
            [$"{s.GgufArchitecture}.attention.head_count_kv"] = (uint)s.Heads,
            [$"{s.GgufArchitecture}.attention.key_length"] = (uint)(s.Nope + s.Rope),
            [$"{s.GgufArchitecture}.attention.value_length"] = (uint)s.ValueDim,
            [$"{s.GgufArchitecture}.attention.key_length_mla"] = null,
            [$"{s.GgufArchitecture}.attention.value_length_mla"] = null,
        });
        File.Delete(written);
        return path;
    }

    private (float[] KeyUp, float[] ValueUp) SplitKeyValue(float[] kvB)
    {
        var s = Spec;
        int stride = s.Nope + s.ValueDim;
        var keyUp = new float[s.Heads * s.KvLora * s.Nope];
        var valueUp = new float[s.Heads * s.ValueDim * s.KvLora];
        for (int h = 0; h < s.Heads; h++)
        {
            for (int i = 0; i < s.Nope; i++)
                for (int j = 0; j < s.KvLora; j++)
                    keyUp[(h * s.KvLora + j) * s.Nope + i] = kvB[(h * stride + i) * s.KvLora + j];
            Array.Copy(kvB, (h * stride + s.Nope) * s.KvLora, valueUp, h * s.ValueDim * s.KvLora, s.ValueDim * s.KvLora);
        }
        return (keyUp, valueUp);
    }

    public string ConfigJsonText()
    {
        var s = Spec;
        var config = new Dictionary<string, object?>
        {
            ["architectures"] = new[] { s.Dsa is null ? "Glm4MoeLiteForCausalLM" : "GlmMoeDsaForCausalLM" },
            ["model_type"] = s.ModelType,
            ["vocab_size"] = s.Vocab,
            ["hidden_size"] = s.Hidden,
            ["num_hidden_layers"] = s.Layers,
            ["num_attention_heads"] = s.Heads,
            ["num_key_value_heads"] = s.Heads,
            ["q_lora_rank"] = s.QLora,
            ["kv_lora_rank"] = s.KvLora,
            ["qk_nope_head_dim"] = s.Nope,
            ["qk_rope_head_dim"] = s.Rope,
            ["v_head_dim"] = s.ValueDim,
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
            ["topk_method"] = "noaux_tc",
            ["num_nextn_predict_layers"] = s.NextN,
            ["max_position_embeddings"] = s.Context,
            ["rope_theta"] = 10000.0,
            ["rms_norm_eps"] = 1e-5,
            ["attention_bias"] = false,
            ["tie_word_embeddings"] = false,
            ["eos_token_id"] = new[] { s.Vocab - 1 },
        };
        if (s.Dsa is { } dsa)
        {
            config["index_n_heads"] = dsa.Heads;
            config["index_head_dim"] = dsa.HeadDim;
            config["index_topk"] = dsa.TopK;
            config["indexer_types"] = Enumerable.Range(0, s.Layers).Select(i => dsa.IsFull(i) ? "full" : "shared").ToArray();
            config["indexer_rope_interleave"] = true;
            config["rope_interleave"] = true;
        }
        return JsonSerializer.Serialize(config);
    }
}
