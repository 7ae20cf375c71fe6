using System.Text.Json;
using System.Text.Json.Nodes;
using GlmSharp.Errors;
using GlmSharp.Formats.Safetensors;
using GlmSharp.Tokenizers;

namespace GlmSharp.Training;

/// <summary>
/// Writes a trained model as a Hugging Face <c>Glm4ForCausalLM</c> folder: config.json, generation_config.json,
/// model.safetensors (HF tensor names; F32 or BF16) and the tokenizer files.
/// </summary>
public static class HfCheckpointExporter
{
    /// <summary>GLM stops on end-of-text and on the tokens that open the next user or tool turn.</summary>
    private static readonly string[] StopTokens = ["<|endoftext|>", "<|user|>", "<|observation|>"];

    public static void Export(Glm4TrainingWeights weights, TokenizerVocabulary vocabulary, string directory,
        SafetensorsDtype dtype = SafetensorsDtype.F32)
    {
        var shape = weights.Shape;
        if (vocabulary.Tokens.Count != shape.VocabSize)
            throw new GlmException($"the tokenizer has {vocabulary.Tokens.Count} tokens but the model's vocab_size is {shape.VocabSize}");
        int[] eos = StopTokens.Select(t => IdOf(vocabulary, t)).ToArray();
        Directory.CreateDirectory(directory);

        File.WriteAllText(Path.Combine(directory, "config.json"), Config(shape, eos, dtype).ToJsonString(Indented) + "\n");
        File.WriteAllText(Path.Combine(directory, "generation_config.json"), Generation(eos).ToJsonString(Indented) + "\n");
        var writer = new SafetensorsWriter();
        writer.SetMetadata("format", "pt");
        var values = weights.Parameters.Values;
        foreach (var p in weights.Parameters.All)
            writer.AddFloats(p.Name, dtype, p.Shape.Select(d => (long)d).ToArray(), values.AsMemory(p.Offset, p.Length));
        writer.WriteTo(Path.Combine(directory, "model.safetensors"));
        HfTokenizerWriter.WriteDirectory(vocabulary, directory);
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
