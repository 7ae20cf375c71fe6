using System.Text.Json;
using System.Text.Json.Nodes;
using GlmSharp.Errors;
using GlmSharp.Formats.Safetensors;
using GlmSharp.Tokenizers;

namespace GlmSharp.Training;

/// <summary>
/// Writes a trained model as a Hugging Face folder (<c>Glm4ForCausalLM</c> or <c>Glm4MoeForCausalLM</c>): config.json,
/// generation_config.json, model.safetensors (HF tensor names; F32 or BF16) and the tokenizer files.
/// </summary>
public static class HfCheckpointExporter
{
    /// <summary>GLM stops on end-of-text and on the tokens that open the next user or tool turn.</summary>
    private static readonly string[] StopTokens = ["<|endoftext|>", "<|user|>", "<|observation|>"];

    public static void Export(Glm4TrainingWeights weights, TokenizerVocabulary vocabulary, string directory,
        SafetensorsDtype dtype = SafetensorsDtype.F32) =>
        Write(weights.Parameters, weights.Shape.VocabSize, eos => Config(weights.Shape, eos, dtype), vocabulary, directory, dtype, splitGateUp: false);

    /// <summary>
    /// A glm4_moe model as a Hugging Face <c>Glm4MoeForCausalLM</c> folder: fused gate_up matrices are written as
    /// gate_proj and up_proj, stacked experts one tensor per expert and projection, as Hugging Face checkpoints hold them.
    /// </summary>
    public static void Export(Glm4MoeTrainingWeights weights, TokenizerVocabulary vocabulary, string directory,
        SafetensorsDtype dtype = SafetensorsDtype.F32) =>
        Write(weights.Parameters, weights.Shape.VocabSize, eos => MoeConfig(weights.Shape, eos, dtype), vocabulary, directory, dtype, splitGateUp: true);

    private static void Write(TrainingParameters parameters, int vocabSize, Func<int[], JsonObject> config, TokenizerVocabulary vocabulary,
        string directory, SafetensorsDtype dtype, bool splitGateUp)
    {
        if (vocabulary.Tokens.Count != vocabSize)
            throw new GlmException($"the tokenizer has {vocabulary.Tokens.Count} tokens but the model's vocab_size is {vocabSize}");
        int[] eos = StopTokens.Select(t => IdOf(vocabulary, t)).ToArray();
        Directory.CreateDirectory(directory);

        File.WriteAllText(Path.Combine(directory, "config.json"), config(eos).ToJsonString(Indented) + "\n");
        File.WriteAllText(Path.Combine(directory, "generation_config.json"), Generation(eos).ToJsonString(Indented) + "\n");
        var writer = new SafetensorsWriter();
        writer.SetMetadata("format", "pt");
        foreach (var (name, shape, values) in HuggingFaceTensors(parameters, splitGateUp))
            writer.AddFloats(name, dtype, shape, values);
        writer.WriteTo(Path.Combine(directory, "model.safetensors"));
        HfTokenizerWriter.WriteDirectory(vocabulary, directory);
    }

    /// <summary>
    /// Each parameter under its Hugging Face name; stacked experts, and fused gate_up matrices where the format keeps
    /// gate and up apart (glm4_moe; glm4 stores them fused), as views of their parts.
    /// </summary>
    private static IEnumerable<(string Name, long[] Shape, ReadOnlyMemory<float> Values)> HuggingFaceTensors(TrainingParameters parameters, bool splitGateUp)
    {
        var values = parameters.Values;
        const string fused = "gate_up_proj.weight", experts = "mlp.experts.";
        foreach (var p in parameters.All)
        {
            bool gateUp = splitGateUp && p.Name.EndsWith(fused, StringComparison.Ordinal), stacked = p.Name.Contains(experts, StringComparison.Ordinal);
            if (!gateUp && !stacked)
            {
                yield return (p.Name, p.Shape.Select(d => (long)d).ToArray(), values.AsMemory(p.Offset, p.Length));
                continue;
            }
            int rows = p.Shape[^2], columns = p.Shape[^1], size = rows * columns;
            for (int e = 0; e < (stacked ? p.Shape[0] : 1); e++)
            {
                string name = stacked ? p.Name.Replace(experts, $"{experts}{e}.", StringComparison.Ordinal) : p.Name;
                int offset = p.Offset + e * size;
                if (!gateUp)
                {
                    yield return (name, [rows, columns], values.AsMemory(offset, size));
                    continue;
                }
                // Gate rows first, then up rows, as the fused matrix is laid out.
                string stem = name[..^fused.Length];
                yield return (stem + "gate_proj.weight", [rows / 2, columns], values.AsMemory(offset, size / 2));
                yield return (stem + "up_proj.weight", [rows / 2, columns], values.AsMemory(offset + size / 2, size / 2));
            }
        }
    }

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    private static JsonObject Config(Glm4TrainingShape s, int[] eos, SafetensorsDtype dtype) => new()
    {
        ["architectures"] = new JsonArray("Glm4ForCausalLM"),
        ["model_type"] = "glm4",
        ["vocab_size"] = s.VocabSize,
        ["hidden_size"] = s.HiddenSize,
        ["intermediate_size"] = s.IntermediateSize,
        ["num_hidden_layers"] = s.NumLayers,
        ["num_attention_heads"] = s.NumHeads,
        ["num_key_value_heads"] = s.NumKvHeads,
        ["head_dim"] = s.HeadDim,
        ["partial_rotary_factor"] = s.PartialRotaryFactor,
        ["rope_theta"] = s.RopeTheta,
        ["rms_norm_eps"] = s.RmsNormEps,
        ["max_position_embeddings"] = s.MaxPositions,
        ["attention_bias"] = s.AttentionBias,
        ["attention_dropout"] = 0.0,
        ["hidden_act"] = "silu",
        ["initializer_range"] = Glm4TrainingWeights.InitStd,
        ["tie_word_embeddings"] = s.TieWordEmbeddings,
        ["use_cache"] = true,
        ["torch_dtype"] = dtype == SafetensorsDtype.BF16 ? "bfloat16" : "float32",
        ["eos_token_id"] = new JsonArray(eos.Select(id => (JsonNode)id).ToArray()),
        ["pad_token_id"] = eos[0],
    };

    private static JsonObject MoeConfig(Glm4MoeTrainingShape s, int[] eos, SafetensorsDtype dtype)
    {
        var config = Config(s.Attention, eos, dtype);
        config["architectures"] = new JsonArray("Glm4MoeForCausalLM");
        config["model_type"] = "glm4_moe";
        config["n_routed_experts"] = s.Experts;
        config["num_experts_per_tok"] = s.ExpertsPerToken;
        config["moe_intermediate_size"] = s.ExpertIntermediateSize;
        config["n_shared_experts"] = s.SharedExperts;
        config["first_k_dense_replace"] = s.FirstDenseLayers;
        config["n_group"] = 1;
        config["topk_group"] = 1;
        config["routed_scaling_factor"] = s.RoutedScalingFactor;
        config["norm_topk_prob"] = s.NormTopkProb;
        config["use_qk_norm"] = false;
        config["num_nextn_predict_layers"] = s.NextNLayers;
        return config;
    }

    private static JsonObject Generation(int[] eos) => new()
    {
        ["eos_token_id"] = new JsonArray(eos.Select(id => (JsonNode)id).ToArray()),
        ["pad_token_id"] = eos[0],
        ["do_sample"] = true,
        ["temperature"] = 0.8,
        ["top_p"] = 0.9,
    };

    private static int IdOf(TokenizerVocabulary vocabulary, string token)
    {
        for (int i = 0; i < vocabulary.Tokens.Count; i++)
            if (vocabulary.Kinds[i] != TokenKind.Normal && vocabulary.Tokens[i] == token) return i;
        throw new GlmException($"the tokenizer has no special token {token}, which GLM's chat format needs");
    }
}
