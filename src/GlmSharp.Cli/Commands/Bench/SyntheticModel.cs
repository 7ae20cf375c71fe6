using GlmSharp.Configs;
using GlmSharp.Formats.Gguf;
using GlmSharp.Models;
using GlmSharp.Tensors;
using GlmSharp.Tokenizers;

namespace GlmSharp.Cli.Commands.Bench;

/// <summary>
/// Benchmark models with real dimensions and random weights, written by our own GGUF writer so that GlmSharp and
/// llama.cpp run the same bytes. Matrices take the types a <see cref="QuantizationScheme"/> picks; norms stay F32 as
/// llama.cpp keeps them. The vocabulary is a stand-in of the model's size (<see cref="Vocabulary"/>), enough for
/// `glm serve` to run the file; the engines are fed token ids.
/// </summary>
internal static class SyntheticModel
{
    /// <summary>GLM-Edge-1.5B's dimensions on the glm4 architecture, untied so the LM head is its own matrix.</summary>
    private const string Edge15bConfig = """
        {"architectures": ["Glm4ForCausalLM"], "model_type": "glm4", "vocab_size": 59264, "hidden_size": 2048,
         "num_hidden_layers": 28, "num_attention_heads": 16, "num_key_value_heads": 4, "head_dim": 128,
         "intermediate_size": 6144, "partial_rotary_factor": 0.5, "attention_bias": false, "tie_word_embeddings": false,
         "max_position_embeddings": 8192, "rope_theta": 10000.0, "rms_norm_eps": 1e-05, "eos_token_id": [59246]}
        """;

    /// <summary>GLM-4.5-Air's layer shapes (glm4_moe): 128 experts of 1408 + 1 shared, top 8, one dense lead layer; no NextN layer.</summary>
    private const string Air = """
        {"architectures": ["Glm4MoeForCausalLM"], "model_type": "glm4_moe", "vocab_size": 151552, "hidden_size": 4096,
         "num_hidden_layers": 46, "num_attention_heads": 96, "num_key_value_heads": 8, "head_dim": 128,
         "intermediate_size": 10944, "moe_intermediate_size": 1408, "n_routed_experts": 128, "n_shared_experts": 1,
         "num_experts_per_tok": 8, "first_k_dense_replace": 1, "n_group": 1, "topk_group": 1, "routed_scaling_factor": 1.0,
         "norm_topk_prob": true, "use_qk_norm": false, "partial_rotary_factor": 0.5, "attention_bias": true,
         "tie_word_embeddings": false, "max_position_embeddings": 131072, "rope_theta": 1000000, "rms_norm_eps": 1e-05,
         "num_nextn_predict_layers": 0, "eos_token_id": [151329, 151336, 151338]}
        """;

    /// <summary>GLM-4-9B-0414's dimensions: a 13,696-wide MLP that no K-quant block tiles, 16:1 GQA, a 151,552-token head.</summary>
    private const string Glm4_9b = """
        {"architectures": ["Glm4ForCausalLM"], "model_type": "glm4", "vocab_size": 151552, "hidden_size": 4096,
         "num_hidden_layers": 40, "num_attention_heads": 32, "num_key_value_heads": 2, "head_dim": 128,
         "intermediate_size": 13696, "partial_rotary_factor": 0.5, "attention_bias": true, "tie_word_embeddings": false,
         "max_position_embeddings": 32768, "rope_theta": 10000.0, "rms_norm_eps": 1e-05, "eos_token_id": [151329, 151336, 151338]}
        """;

    /// <summary>GLM-4-32B-0414's dimensions (no q/k/v bias); with --layers, its layer shapes in a file that fits.</summary>
    private const string Glm4_32b = """
        {"architectures": ["Glm4ForCausalLM"], "model_type": "glm4", "vocab_size": 151552, "hidden_size": 6144,
         "num_hidden_layers": 61, "num_attention_heads": 48, "num_key_value_heads": 8, "head_dim": 128,
         "intermediate_size": 23040, "partial_rotary_factor": 0.5, "attention_bias": false, "tie_word_embeddings": false,
         "max_position_embeddings": 32768, "rope_theta": 10000.0, "rms_norm_eps": 1e-05, "eos_token_id": [151329, 151336, 151338]}
        """;

    /// <summary>GLM-4.7-Flash (glm4_moe_lite, llama.cpp deepseek2): MLA with q_lora 768 and kv_lora 512, 64 experts of 1536 + 1 shared, top 4; no NextN layer.</summary>
    private const string Glm47Flash = """
        {"architectures": ["Glm4MoeLiteForCausalLM"], "model_type": "glm4_moe_lite", "vocab_size": 154880, "hidden_size": 2048,
         "num_hidden_layers": 47, "num_attention_heads": 20, "num_key_value_heads": 20, "q_lora_rank": 768, "kv_lora_rank": 512,
         "qk_nope_head_dim": 192, "qk_rope_head_dim": 64, "v_head_dim": 256, "intermediate_size": 10240, "moe_intermediate_size": 1536,
         "n_routed_experts": 64, "n_shared_experts": 1, "num_experts_per_tok": 4, "first_k_dense_replace": 1, "n_group": 1,
         "topk_group": 1, "routed_scaling_factor": 1.8, "norm_topk_prob": true, "partial_rotary_factor": 1.0, "attention_bias": false,
         "tie_word_embeddings": false, "max_position_embeddings": 202752, "rope_theta": 1000000, "rms_norm_eps": 1e-05,
         "num_nextn_predict_layers": 0, "eos_token_id": [154820, 154827, 154829]}
        """;

    /// <summary>
    /// GLM-5 (glm_moe_dsa, llama.cpp glm-dsa): GLM-4.7-Flash's MLA at 64 heads, q_lora 2048, 256 experts of 2048 + 1 shared,
    /// top 8, three dense lead layers, and a DSA indexer of 32 heads × 128 keeping 2,048 positions in every layer; no NextN layer.
    /// </summary>
    private const string Glm5 = """
        {"architectures": ["GlmMoeDsaForCausalLM"], "model_type": "glm_moe_dsa", "vocab_size": 154880, "hidden_size": 6144,
         "num_hidden_layers": 78, "num_attention_heads": 64, "num_key_value_heads": 64, "q_lora_rank": 2048, "kv_lora_rank": 512,
         "qk_nope_head_dim": 192, "qk_rope_head_dim": 64, "v_head_dim": 256, "intermediate_size": 12288, "moe_intermediate_size": 2048,
         "n_routed_experts": 256, "n_shared_experts": 1, "num_experts_per_tok": 8, "first_k_dense_replace": 3, "n_group": 1,
         "topk_group": 1, "routed_scaling_factor": 2.5, "norm_topk_prob": true, "scoring_func": "sigmoid", "index_n_heads": 32,
         "index_head_dim": 128, "index_topk": 2048, "tie_word_embeddings": false, "max_position_embeddings": 202752,
         "rope_theta": 1000000, "rms_norm_eps": 1e-05, "num_nextn_predict_layers": 0, "eos_token_id": [154820, 154827, 154829]}
        """;

    public static IReadOnlyList<string> Names => ["edge-1.5b", "glm-4-9b", "glm-4-32b", "glm-4.5-air", "glm-4.7-flash", "glm-5"];

    /// <summary>The models of multi-head latent attention, whose head count <see cref="Config"/> may change: each head reads the one shared latent.</summary>
    public static IReadOnlyList<string> MlaNames => ["glm-4.7-flash", "glm-5"];

    /// <param name="layers">Keep only the first this many layers (all when null): the layer shapes of a large model in a file that fits.</param>
    /// <param name="heads">
    /// Attention heads of an MLA model (its own when null). Filling a long context costs llama.cpp's dense prefill time in
    /// proportion to the heads, so fewer make a 64K-token context affordable; the latent, the rope and the indexer keep their
    /// widths (llama.cpp's glm-dsa graph needs rope 64 and indexer keys of 128), only q_b, k_b, v_b and o_proj shrink.
    /// </param>
    public static ModelConfig Config(string name, int? layers = null, int? heads = null)
    {
        var config = name switch
        {
            "edge-1.5b" => HfConfigLoader.Parse(ConfigJson.Parse(Edge15bConfig, "edge-1.5b")),
            "glm-4-9b" => HfConfigLoader.Parse(ConfigJson.Parse(Glm4_9b, "glm-4-9b")),
            "glm-4-32b" => HfConfigLoader.Parse(ConfigJson.Parse(Glm4_32b, "glm-4-32b")),
            "glm-4.5-air" => HfConfigLoader.Parse(ConfigJson.Parse(Air, "glm-4.5-air")),
            "glm-4.7-flash" => HfConfigLoader.Parse(ConfigJson.Parse(Glm47Flash, "glm-4.7-flash")),
            "glm-5" => HfConfigLoader.Parse(ConfigJson.Parse(Glm5, "glm-5")),
            _ => throw new Errors.GlmException($"unknown synthetic model '{name}'; known: {string.Join(", ", Names)}"),
        };
        if (heads is { } h)
        {
            if (!MlaNames.Contains(name)) throw new Errors.GlmException($"--heads {h}: only the MLA models ({string.Join(", ", MlaNames)}) take a head count, not {name}");
            if (h < 1 || h > config.NumHeads) throw new Errors.GlmException($"--heads {h}: {name} has 1 to {config.NumHeads} heads");
            config = config with { NumHeads = h, NumKvHeads = h };
        }
        if (layers is not { } kept) return config;
        if (kept < 1 || kept > config.NumLayers) throw new Errors.GlmException($"--layers {kept}: {name} has 1 to {config.NumLayers} layers");
        // The DSA indexer's schedule names every layer, so it is cut with them; so are GLM-5's three dense lead layers when
        // fewer are kept (GlmSharp refuses more dense lead layers than layers).
        return config is GlmMoeDsaConfig dsa
            ? dsa with
            {
                NumLayers = kept,
                Indexer = dsa.Indexer with { FullLayers = dsa.Indexer.FullLayers[..kept] },
                Moe = dsa.Moe with { FirstDenseLayers = Math.Min(dsa.Moe.FirstDenseLayers, kept) },
            }
            : config with { NumLayers = kept };
    }

    /// <param name="progress">Called with the fraction of bytes written so far.</param>
    public static void Write(string name, int? layers, int? heads, QuantizationScheme scheme, string path, Action<double> progress)
    {
        var config = Config(name, layers, heads);
        Write(config, name, Vocabulary(config), scheme, path, progress);
    }

    /// <param name="name">Names the model in the file's general.name and in errors.</param>
    internal static void Write(ModelConfig config, string name, TokenizerVocabulary vocabulary, QuantizationScheme scheme, string path, Action<double> progress)
    {
        IArchitecture architecture = ModelRegistry.ByModelType(config.ModelType, name);
        var writer = new GgufWriter();
        foreach (var (key, value) in architecture.GgufMetadata(config))
            writer.SetMetadata(key, value);
        writer.SetMetadata("general.name", $"synthetic {name} {scheme.Name}");
        writer.SetMetadata("general.file_type", scheme.FileType);
        foreach (var (key, value) in GgufVocabulary.ToMetadata(vocabulary))
            writer.SetMetadata(key, value);

        var tensors = ExpertStacks.Group(TensorListing.For(architecture, config).Select(t => (t.Name, t.Shape)), name)
            .Select(t => (Hf: t.Name, Gguf: GlmTensorNames.HfToGguf(t.Name, architecture.LayerTensorNames)
                ?? throw new InvalidOperationException($"no GGUF name for {t.Name}"), t.Shape))
            .ToArray();
        var types = scheme.AssignEncodable(tensors.Select(t => (t.Gguf, t.Shape)), QuantizationTarget.Of(config));
        long totalBytes = tensors.Sum(t => GgmlTypeInfo.TensorByteSize(types[t.Gguf], t.Shape));
        long written = 0;
        int seed = 0;
        foreach (var (hfName, ggufName, shape) in tensors)
        {
            var type = types[ggufName];
            int tensorSeed = ++seed;
            writer.AddTensor(ggufName, type, shape, stream =>
            {
                WriteRandom(stream, type, shape, tensorSeed, hfName.EndsWith("norm.weight", StringComparison.Ordinal));
                written += GgmlTypeInfo.TensorByteSize(type, shape);
                progress((double)written / totalBytes);
            });
        }
        writer.WriteTo(path);
    }

    /// <summary>
    /// A byte-level vocabulary of the model's size with no merges: the 256 byte tokens first (text tokenizes to one
    /// token per byte), GLM's special tokens from the model's first end-of-text id on, as GLM numbers them, and
    /// distinct filler tokens in between and after.
    /// </summary>
    /// <param name="moreSpecials">Special tokens after GLM's own (an image prompt's markers).</param>
    internal static TokenizerVocabulary Vocabulary(ModelConfig config, params string[] moreSpecials)
    {
        string[] specials = ["<|endoftext|>", "[MASK]", "[gMASK]", "[sMASK]", "<sop>", "<eop>", "<|system|>", "<|user|>", "<|assistant|>", "<|observation|>", .. moreSpecials];
        int endOfText = config.EosTokenIds[0];
        var tokens = new string[config.VocabSize];
        var kinds = new TokenKind[config.VocabSize];
        for (int id = 0; id < tokens.Length; id++)
        {
            bool special = id >= endOfText && id - endOfText < specials.Length;
            tokens[id] = id < 256 ? ByteLevelAlphabet.CharOf((byte)id).ToString() : special ? specials[id - endOfText] : $"filler{id}";
            kinds[id] = special ? TokenKind.Control : TokenKind.Normal;
        }
        return new TokenizerVocabulary
        {
            Tokens = tokens,
            Kinds = kinds,
            Merges = [],
            SpecialIds = new SpecialTokenIds { Eos = endOfText, Eot = endOfText + 7 },
        };
    }

    /// <summary>Rows are generated and encoded in parallel chunks, then written in order.</summary>
    internal static void WriteRandom(Stream stream, GgmlType type, long[] shape, int seed, bool isNorm)
    {
        int columns = (int)shape[^1];
        int rows = checked((int)(shape.Aggregate(1L, (a, b) => a * b) / columns));
        int rowBytes = (int)GgmlTypeInfo.RowByteSize(type, columns);
        // Uniform weights of standard deviation ≈ 1/√columns keep activations O(1) through the layers.
        float scale = isNorm ? 0f : MathF.Sqrt(3f / columns);
        const int chunkRows = 256;
        var chunk = new byte[chunkRows * rowBytes];
        for (int start = 0; start < rows; start += chunkRows)
        {
            int count = Math.Min(chunkRows, rows - start);
            Parallel.For(0, count, r =>
            {
                var values = new float[columns];
                ulong state = (ulong)seed * 0x9E3779B97F4A7C15UL + (ulong)(start + r) * 0xBF58476D1CE4E5B9UL + 1;
                for (int c = 0; c < columns; c++)
                {
                    state ^= state << 13; state ^= state >> 7; state ^= state << 17;
                    float unit = (state >> 40) * (1f / (1 << 24)) * 2f - 1f;
                    values[c] = isNorm ? 1f + 0.1f * unit : scale * unit;
                }
                TensorCodec.QuantizeRow(type, values, chunk.AsSpan(r * rowBytes, rowBytes));
            });
            stream.Write(chunk, 0, count * rowBytes);
        }
    }

    /// <summary>
    /// Bytes a decode step of <paramref name="rows"/> rows reads: every tensor but the embedding table, of which it reads
    /// one row per token, and of merged expert tensors the share of experts the rows choose: each row takes k of E, so
    /// 1 − (1 − k/E)^rows of them on average when routing is uniform, as with random weights.
    /// </summary>
    public static long DecodeBytesPerStep(string ggufPath, int rows)
    {
        using var file = GgufFile.Open(ggufPath);
        bool tied = !file.Tensors.Any(t => t.Name == "output.weight");
        string architecture = file.Metadata.GetString("general.architecture");
        double expertShare = file.Metadata.TryGetUInt($"{architecture}.expert_count", out uint experts) && experts > 0
            && file.Metadata.TryGetUInt($"{architecture}.expert_used_count", out uint used)
            ? 1 - Math.Pow(1 - (double)used / experts, rows) : 1;
        return (long)file.Tensors.Where(t => tied || t.Name != "token_embd.weight")
            .Sum(t => t.Name.EndsWith("_exps.weight", StringComparison.Ordinal) ? t.ByteLength * expertShare : t.ByteLength);
    }
}
