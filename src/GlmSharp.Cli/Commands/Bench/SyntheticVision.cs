using GlmSharp.Configs;
using GlmSharp.Errors;
using GlmSharp.Formats.Gguf;
using GlmSharp.Models;
using GlmSharp.Tensors;
using GlmSharp.Vision;

namespace GlmSharp.Cli.Commands.Bench;

/// <summary>
/// The files of the vision-encoder comparison, random weights written by our own writers: a glm4v mmproj at GLM-4.1V's
/// vision shape (its class defaults: width 1536, 12 heads, block MLP 4096, 24 blocks unless fewer are asked), and the
/// smallest text model libmtmd initialises beside it (a glm4 with M-RoPE sections, the image markers in its vocabulary
/// and the mmproj's projection width, one layer).
/// </summary>
internal static class SyntheticVision
{
    /// <summary>The matrix types the mmproj can be written in (rows that do not fill a Q8_0 block stay F16, as the converter leaves them).</summary>
    public static readonly IReadOnlyList<GgmlType> Types = [GgmlType.F32, GgmlType.F16, GgmlType.Q8_0];

    public static Glm4vVisionConfig Config(int? blocks)
    {
        var config = new Glm4vVisionConfig();
        if (blocks is not { } depth) return config;
        if (depth < 1 || depth > config.Depth) throw new GlmException($"--vision-blocks {depth}: GLM-4.1V's tower has 1 to {config.Depth} blocks");
        return config with { Depth = depth };
    }

    public static GgmlType ParseType(string name) =>
        Types.Where(t => string.Equals(t.ToString(), name, StringComparison.OrdinalIgnoreCase)).Cast<GgmlType?>().FirstOrDefault()
            ?? throw new GlmException($"--type {name}: a synthetic mmproj is written as one of {string.Join(", ", Types.Select(t => t.ToString().ToLowerInvariant()))}");

    public static void WriteMmproj(Glm4vVisionConfig config, GgmlType matrixType, string path)
    {
        var writer = new GgufWriter();
        foreach (var (key, value) in Glm4vMmprojLayout.Metadata(config, Glm4vPreprocessorConfig.ClipMean, Glm4vPreprocessorConfig.ClipStd))
            writer.SetMetadata(key, value);
        writer.SetMetadata("general.name", $"synthetic GLM-4.1V vision, {config.Depth} blocks");
        int seed = 0;
        foreach (var (name, shape) in Glm4vVisionTensors.Mmproj(config))
        {
            var type = Glm4vMmprojLayout.StoredType(name, shape, matrixType);
            int tensorSeed = ++seed;
            bool isNorm = name.EndsWith("ln1.weight") || name.EndsWith("ln2.weight") || name.EndsWith("norm_embd.weight")
                || name.EndsWith("post_ln.weight") || name.EndsWith("post_norm.weight");
            writer.AddTensor(name, type, shape, stream => SyntheticModel.WriteRandom(stream, type, shape, tensorSeed, isNorm));
        }
        writer.WriteTo(path);
    }

    /// <summary>GLM-4.1V's text attention (head 128, half of it rotated in M-RoPE sections 8/12/12) at a stand-in size.</summary>
    public static void WriteTextModel(int width, string path)
    {
        string json = $$"""
            {"architectures": ["Glm4ForCausalLM"], "model_type": "glm4", "vocab_size": 272, "hidden_size": {{width}},
             "num_hidden_layers": 1, "num_attention_heads": 2, "num_key_value_heads": 1, "head_dim": 128,
             "intermediate_size": 64, "partial_rotary_factor": 0.5, "attention_bias": true, "tie_word_embeddings": false,
             "max_position_embeddings": 4096, "rope_theta": 10000.0, "rms_norm_eps": 1e-05, "eos_token_id": [256]}
            """;
        var config = HfConfigLoader.Parse(ConfigJson.Parse(json, "vision bench text model")) with { MropeSections = [8, 12, 12, 0] };
        var vocabulary = SyntheticModel.Vocabulary(config, ImagePrompt.BeginOfImage, ImagePrompt.EndOfImage, ImagePrompt.ImageToken);
        SyntheticModel.Write(config, "glm4v text stand-in", vocabulary, QuantizationScheme.Uniform(GgmlType.F16), path, _ => { });
    }

    /// <summary>The tower of a given mmproj: its projection width is the text stand-in's, its shape counts the FLOP.</summary>
    public static Glm4vVisionConfig ReadConfig(string mmproj)
    {
        if (!File.Exists(mmproj)) throw new ModelFormatException($"{mmproj}: mmproj file not found");
        try
        {
            using var file = GgufFile.Open(mmproj);
            return Glm4vMmproj.Read(file.Metadata).Vision;
        }
        catch (Exception e) when (e is IOException or InvalidDataException or EndOfStreamException)
        {
            throw new ModelFormatException($"{mmproj}: not a readable GGUF mmproj file ({e.Message})", e);
        }
    }
}
