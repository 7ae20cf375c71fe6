using System.Text.Json;
using GlmSharp.Formats.Safetensors;
using GlmSharp.Models;
using GlmSharp.Tensors;
using GlmSharp.Tokenizers;

namespace GlmSharp.Fuzz;

/// <summary>
/// The valid inputs every mutant starts from, written by our own writers: a tiny glm4 checkpoint (random weights, a
/// BPE vocabulary trained on a short text, a GLM chat template) as a Hugging Face folder, as a sharded folder with an
/// index, and as GGUF files of three matrix types.
/// </summary>
internal static class SeedCorpus
{
    private const string Text =
        "The quick brown fox jumps over the lazy dog. A model of language reads text and writes more of it. " +
        "春眠不觉晓，处处闻啼鸟。 Numbers like 12345 and 2026 appear; code too: x = f(y) + 1;";

    /// <summary>The chat message the other targets send, and the seed of the chat target.</summary>
    public const string ChatMessage = "Write a haiku about the sea, 春眠不觉晓, <|user|> and {{ braces }}.";

    public static void Write(string root)
    {
        File.WriteAllText(Path.Combine(root, "chat.txt"), ChatMessage);
        var vocabulary = BpeTrainer.Train(Enumerable.Repeat(Text, 4), vocabSize: 320);
        int vocab = vocabulary.Tokens.Count;
        string hf = Path.Combine(root, "hf");
        Directory.CreateDirectory(hf);
        var tensors = RandomWeights(vocab, hidden: 32, layers: 2, heads: 4, kvHeads: 2, headDim: 8, intermediate: 48);
        File.WriteAllText(Path.Combine(hf, "config.json"), JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["architectures"] = new[] { "Glm4ForCausalLM" },
            ["model_type"] = "glm4",
            ["vocab_size"] = vocab,
            ["hidden_size"] = 32,
            ["num_hidden_layers"] = 2,
            ["num_attention_heads"] = 4,
            ["num_key_value_heads"] = 2,
            ["head_dim"] = 8,
            ["intermediate_size"] = 48,
            ["partial_rotary_factor"] = 0.5,
            ["attention_bias"] = true,
            ["tie_word_embeddings"] = false,
            ["max_position_embeddings"] = 1024,
            ["rope_theta"] = 10000.0,
            ["rms_norm_eps"] = 1e-5,
            ["eos_token_id"] = new[] { vocab - 1 },
            ["rope_scaling"] = new Dictionary<string, object> { ["type"] = "yarn", ["factor"] = 2.0, ["original_max_position_embeddings"] = 64 },
        }));
        File.WriteAllText(Path.Combine(hf, "generation_config.json"),
            JsonSerializer.Serialize(new { eos_token_id = new[] { vocab - 1 }, do_sample = true, temperature = 0.8, top_p = 0.9, top_k = 40, max_new_tokens = 8 }));
        HfTokenizerWriter.WriteDirectory(vocabulary, hf);
        var writer = new SafetensorsWriter();
        foreach (var (name, (shape, values)) in tensors) writer.AddFloats(name, SafetensorsDtype.BF16, shape, values);
        writer.WriteTo(Path.Combine(hf, "model.safetensors"));

        WriteSharded(Path.Combine(root, "sharded"), hf, tensors);

        using (var loaded = ModelLoader.Load(hf))
            foreach (var type in new[] { GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.F16 })
                GgufExporter.Write(loaded.Architecture, loaded.Config, loaded.Model.Weights, vocabulary,
                    Path.Combine(root, $"model-{type.ToString().ToLowerInvariant()}.gguf"), type, "fuzz seed");
        WriteMixtureOfExperts(Path.Combine(root, "moe"), hf, vocab, vocabulary);
        WriteRequests(Path.Combine(root, "http"));
    }

    /// <summary>
    /// Request bodies for <c>glm serve</c> that use every field it reads: a conversation with each role, tools and a
    /// tool call, sampling and penalties, stops, several choices, log-probabilities, a JSON-object reply, thinking
    /// switches, streaming with usage, and a completion prompt as text and as token ids.
    /// </summary>
    private static void WriteRequests(string folder)
    {
        Directory.CreateDirectory(folder);
        var weather = new Dictionary<string, object>
        {
            ["type"] = "function",
            ["function"] = new Dictionary<string, object>
            {
                ["name"] = "get_weather",
                ["description"] = "The weather in a city",
                ["parameters"] = new Dictionary<string, object>
                {
                    ["type"] = "object",
                    ["properties"] = new Dictionary<string, object> { ["city"] = new Dictionary<string, object> { ["type"] = "string" }, ["days"] = new Dictionary<string, object> { ["type"] = "integer" } },
                    ["required"] = new[] { "city" },
                },
            },
        };
        object[] conversation =
        [
            new Dictionary<string, object> { ["role"] = "system", ["content"] = "You are terse." },
            new Dictionary<string, object> { ["role"] = "user", ["content"] = new[] { new Dictionary<string, object> { ["type"] = "text", ["text"] = ChatMessage } } },
            new Dictionary<string, object>
            {
                ["role"] = "assistant", ["content"] = "", ["reasoning_content"] = "The user wants weather.",
                ["tool_calls"] = new[] { new Dictionary<string, object> { ["id"] = "call_1", ["type"] = "function", ["function"] = new Dictionary<string, object> { ["name"] = "get_weather", ["arguments"] = "{\"city\": \"Beijing\", \"days\": 2}" } } },
            },
            new Dictionary<string, object> { ["role"] = "tool", ["tool_call_id"] = "call_1", ["content"] = "{\"sky\": \"clear\"}" },
            new Dictionary<string, object> { ["role"] = "user", ["content"] = "And tomorrow?" },
        ];
        Write("chat.json", new Dictionary<string, object>
        {
            ["model"] = "fuzz", ["messages"] = conversation, ["tools"] = new[] { weather }, ["tool_choice"] = "auto",
            ["max_tokens"] = 4, ["temperature"] = 0.7, ["top_p"] = 0.9, ["top_k"] = 20, ["min_p"] = 0.05, ["seed"] = 3, ["n"] = 2,
            ["presence_penalty"] = 0.5, ["frequency_penalty"] = 0.25, ["repetition_penalty"] = 1.1, ["stop"] = new[] { "\n\n", "sea" },
            ["logprobs"] = true, ["top_logprobs"] = 2, ["thinking"] = new Dictionary<string, object> { ["type"] = "disabled" },
        });
        Write("chat-stream.json", new Dictionary<string, object>
        {
            ["messages"] = conversation[..2], ["max_completion_tokens"] = 6, ["stream"] = true,
            ["stream_options"] = new Dictionary<string, object> { ["include_usage"] = true },
            ["response_format"] = new Dictionary<string, object> { ["type"] = "json_object" },
            ["chat_template_kwargs"] = new Dictionary<string, object> { ["enable_thinking"] = true }, ["reasoning_effort"] = "low",
            ["logprobs"] = true, ["temperature"] = 0,
        });
        Write("completions.json", new Dictionary<string, object>
        {
            ["model"] = "fuzz", ["prompt"] = "The quick brown fox", ["max_tokens"] = 4, ["n"] = 2, ["logprobs"] = 3, ["seed"] = 11,
            ["stop"] = "dog", ["temperature"] = 1.2,
        });
        Write("completions-stream.json", new Dictionary<string, object>
        {
            ["prompt"] = new[] { 5, 17, 42, 99, 3 }, ["max_tokens"] = 5, ["stream"] = true, ["ignore_eos"] = true, ["logprobs"] = 1,
            ["stream_options"] = new Dictionary<string, object> { ["include_usage"] = true },
        });

        void Write(string name, Dictionary<string, object> body) => File.WriteAllText(Path.Combine(folder, name), JsonSerializer.Serialize(body));
    }

    /// <summary>A glm4_moe checkpoint with the same vocabulary: one dense lead layer, then 8 experts (top 2, 2 groups) and a shared one.</summary>
    private static void WriteMixtureOfExperts(string folder, string hf, int vocab, TokenizerVocabulary vocabulary)
    {
        Directory.CreateDirectory(folder);
        foreach (var file in new[] { "generation_config.json", "tokenizer.json", "tokenizer_config.json" })
            File.Copy(Path.Combine(hf, file), Path.Combine(folder, file), overwrite: true);
        var config = JsonSerializer.Deserialize<Dictionary<string, object>>(File.ReadAllText(Path.Combine(hf, "config.json")))!;
        config["architectures"] = new[] { "Glm4MoeForCausalLM" };
        config["model_type"] = "glm4_moe";
        config["n_routed_experts"] = 8;
        config["num_experts_per_tok"] = 2;
        config["moe_intermediate_size"] = 16;
        config["n_shared_experts"] = 1;
        config["first_k_dense_replace"] = 1;
        config["n_group"] = 2;
        config["topk_group"] = 1;
        config["routed_scaling_factor"] = 2.5;
        config["norm_topk_prob"] = true;
        config["use_qk_norm"] = true;
        File.WriteAllText(Path.Combine(folder, "config.json"), JsonSerializer.Serialize(config));
        var tensors = RandomWeights(vocab, hidden: 32, layers: 2, heads: 4, kvHeads: 2, headDim: 8, intermediate: 48, sandwichNorms: false);
        var random = new Random(9);
        void Add(string name, float lo, float hi, params long[] shape)
        {
            var values = new float[shape.Aggregate(1L, (a, b) => a * b)];
            for (int i = 0; i < values.Length; i++) values[i] = lo + (float)random.NextDouble() * (hi - lo);
            tensors[name] = (shape, values);
        }
        for (int l = 0; l < 2; l++)
        {
            Add($"model.layers.{l}.self_attn.q_norm.weight", 0.8f, 1.2f, 8);
            Add($"model.layers.{l}.self_attn.k_norm.weight", 0.8f, 1.2f, 8);
        }
        foreach (var p in new[] { "gate_proj", "up_proj", "down_proj" }) tensors.Remove($"model.layers.1.mlp.{p}.weight");
        Add("model.layers.1.mlp.gate.weight", -0.5f, 0.5f, 8, 32);
        Add("model.layers.1.mlp.gate.e_score_correction_bias", -0.1f, 0.1f, 8);
        for (int e = 0; e < 8; e++)
        {
            Add($"model.layers.1.mlp.experts.{e}.gate_proj.weight", -0.25f, 0.25f, 16, 32);
            Add($"model.layers.1.mlp.experts.{e}.up_proj.weight", -0.25f, 0.25f, 16, 32);
            Add($"model.layers.1.mlp.experts.{e}.down_proj.weight", -0.25f, 0.25f, 32, 16);
        }
        Add("model.layers.1.mlp.shared_experts.gate_proj.weight", -0.25f, 0.25f, 16, 32);
        Add("model.layers.1.mlp.shared_experts.up_proj.weight", -0.25f, 0.25f, 16, 32);
        Add("model.layers.1.mlp.shared_experts.down_proj.weight", -0.25f, 0.25f, 32, 16);
        var writer = new SafetensorsWriter();
        foreach (var (name, (shape, values)) in tensors) writer.AddFloats(name, SafetensorsDtype.BF16, shape, values);
        writer.WriteTo(Path.Combine(folder, "model.safetensors"));
        using var loaded = ModelLoader.Load(folder);
        GgufExporter.Write(loaded.Architecture, loaded.Config, loaded.Model.Weights, vocabulary, Path.Combine(folder, "..", "model-moe-q8_0.gguf"), GgmlType.Q8_0, "fuzz seed moe");
    }

    /// <summary>The same checkpoint in two shards and an index.</summary>
    private static void WriteSharded(string folder, string hf, Dictionary<string, (long[] Shape, float[] Values)> tensors)
    {
        Directory.CreateDirectory(folder);
        foreach (var file in new[] { "config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json" })
            File.Copy(Path.Combine(hf, file), Path.Combine(folder, file), overwrite: true);
        var shards = new[] { new SafetensorsWriter(), new SafetensorsWriter() };
        var map = new Dictionary<string, string>();
        int i = 0;
        foreach (var (name, (shape, values)) in tensors)
        {
            int shard = i++ % 2;
            shards[shard].AddFloats(name, SafetensorsDtype.F32, shape, values);
            map[name] = $"model-0000{shard + 1}-of-00002.safetensors";
        }
        for (int s = 0; s < 2; s++) shards[s].WriteTo(Path.Combine(folder, $"model-0000{s + 1}-of-00002.safetensors"));
        File.WriteAllText(Path.Combine(folder, SafetensorsIndex.FileName), JsonSerializer.Serialize(new { metadata = new { total_size = 0 }, weight_map = map }));
    }

    private static Dictionary<string, (long[] Shape, float[] Values)> RandomWeights(int vocab, int hidden, int layers, int heads, int kvHeads, int headDim, int intermediate, bool sandwichNorms = true)
    {
        var random = new Random(5);
        var tensors = new Dictionary<string, (long[] Shape, float[] Values)>();
        void Add(string name, float lo, float hi, params long[] shape)
        {
            var values = new float[shape.Aggregate(1L, (a, b) => a * b)];
            for (int i = 0; i < values.Length; i++) values[i] = lo + (float)random.NextDouble() * (hi - lo);
            tensors[name] = (shape, values);
        }
        int q = heads * headDim, kv = kvHeads * headDim;
        Add("model.embed_tokens.weight", -1, 1, vocab, hidden);
        Add("model.norm.weight", 0.8f, 1.2f, hidden);
        Add("lm_head.weight", -0.25f, 0.25f, vocab, hidden);
        for (int l = 0; l < layers; l++)
        {
            string p = $"model.layers.{l}.";
            foreach (var norm in sandwichNorms ? ["input_layernorm", "post_attention_layernorm", "post_self_attn_layernorm", "post_mlp_layernorm"] : new[] { "input_layernorm", "post_attention_layernorm" })
                Add(p + norm + ".weight", 0.8f, 1.2f, hidden);
            Add(p + "self_attn.q_proj.weight", -0.25f, 0.25f, q, hidden);
            Add(p + "self_attn.k_proj.weight", -0.25f, 0.25f, kv, hidden);
            Add(p + "self_attn.v_proj.weight", -0.25f, 0.25f, kv, hidden);
            Add(p + "self_attn.q_proj.bias", -0.5f, 0.5f, q);
            Add(p + "self_attn.k_proj.bias", -0.5f, 0.5f, kv);
            Add(p + "self_attn.v_proj.bias", -0.5f, 0.5f, kv);
            Add(p + "self_attn.o_proj.weight", -0.25f, 0.25f, hidden, q);
            if (sandwichNorms) Add(p + "mlp.gate_up_proj.weight", -0.25f, 0.25f, 2 * intermediate, hidden);
            else
            {
                Add(p + "mlp.gate_proj.weight", -0.25f, 0.25f, intermediate, hidden);
                Add(p + "mlp.up_proj.weight", -0.25f, 0.25f, intermediate, hidden);
            }
            Add(p + "mlp.down_proj.weight", -0.25f, 0.25f, hidden, intermediate);
        }
        return tensors;
    }
}
