using GlmSharp.Errors;

namespace GlmSharp.Configs;

/// <summary>
/// <c>model_type: "glm4v"</c> (GLM-4.1V-Thinking, Glm4vForConditionalGeneration) and <c>"glm4v_moe"</c> (GLM-4.5V /
/// 4.6V, Glm4vMoeForConditionalGeneration): a text decoder with M-RoPE (<c>text_config</c>: glm4's sandwich layers for
/// glm4v, glm4_moe's MoE layers for glm4v_moe), the same vision tower (<c>vision_config</c>) and the ids of the image
/// and video marker tokens. Text defaults are Glm4vTextConfig's where they differ from glm4's (rms_norm_eps 1e-5, 32768
/// positions) and Glm4vMoeTextConfig's where they differ from glm4_moe's (vocabulary 151424, 65536 positions, q/k/v bias).
/// </summary>
public sealed record Glm4vConfig
{
    /// <summary>The text decoder: glm4's (glm4v) or glm4_moe's (glm4v_moe) layers with M-RoPE sections (t, h, w, 0).</summary>
    public required ModelConfig Text { get; init; }
    public required Glm4vVisionConfig Vision { get; init; }

    /// <summary>Frequency indices given to the t, h and w position components, in that order (sums to rotary dims / 2).</summary>
    public required int[] MropeSection { get; init; }

    public int ImageTokenId { get; init; } = 151343;
    public int VideoTokenId { get; init; } = 151344;
    public int ImageStartTokenId { get; init; } = 151339;
    public int ImageEndTokenId { get; init; } = 151340;
    public int VideoStartTokenId { get; init; } = 151341;
    public int VideoEndTokenId { get; init; } = 151342;

    public static Glm4vConfig Load(string path) => FromJson(ConfigJson.Load(path));

    public static Glm4vConfig FromJson(ConfigJson j)
    {
        string modelType = j.String("model_type");
        if (modelType is not ("glm4v" or "glm4v_moe" or "glm_ocr"))
            throw new UnsupportedModelException($"{j.Origin}: model_type '{modelType}' is not glm4v, glm4v_moe or glm_ocr");
        bool moe = modelType == "glm4v_moe", ocr = modelType == "glm_ocr";
        var textJson = j.Object("text_config") ?? throw new ModelFormatException($"{j.Origin}: required field 'text_config' (an object) is missing");
        var visionJson = j.Object("vision_config") ?? throw new ModelFormatException($"{j.Origin}: required field 'vision_config' (an object) is missing");

        ModelConfig text = moe ? Glm4MoeConfig.Glm4vMoeTextFromJson(textJson) : ocr ? GlmOcrText(textJson) : Glm4Text(textJson);
        int[] section = ReadMropeSection(textJson, text.RotaryDims);
        // llama.cpp's rope.dimension_sections carry a fourth, spare section; the text model takes the same four.
        text = text with { MropeSections = [.. section, 0] };
        var vision = Glm4vVisionConfig.FromJson(visionJson, glmOcr: ocr);
        if (vision.OutHiddenSize != text.HiddenSize)
            throw new ModelFormatException($"{visionJson.Origin}: field 'out_hidden_size' is {vision.OutHiddenSize}, but text_config.hidden_size is {text.HiddenSize}");

        // GLM-4.5V's tokenizer moved <|image|> and <|video|> (151343 / 151344 in GLM-4.1V's).
        int Id(string key, int fallback) => j.OptInt(key) ?? textJson.OptInt(key) ?? fallback;
        return new Glm4vConfig
        {
            Text = text,
            Vision = vision,
            MropeSection = section,
            ImageTokenId = Id("image_token_id", ocr ? 59280 : moe ? 151363 : 151343),
            VideoTokenId = Id("video_token_id", ocr ? 59281 : moe ? 151364 : 151344),
            ImageStartTokenId = Id("image_start_token_id", ocr ? 59256 : 151339),
            ImageEndTokenId = Id("image_end_token_id", ocr ? 59257 : 151340),
            VideoStartTokenId = Id("video_start_token_id", ocr ? 59258 : 151341),
            VideoEndTokenId = Id("video_end_token_id", ocr ? 59259 : 151342),
        };
    }

    /// <summary>
    /// GLM-OCR's text_config (GlmOcrTextConfig): glm4v's sandwich layers with no q/k/v bias (transformers builds them
    /// without), GlmOcrTextConfig's sizes where absent, and partial_rotary_factor under rope_parameters (1.0 in GLM-OCR:
    /// every dim rotates). Its multi-token-prediction layer (layers.{num_hidden_layers}) is not read, as transformers drops it.
    /// </summary>
    private static Glm4Config GlmOcrText(ConfigJson textJson) => new(DenseGlmDefaults.Read(textJson, "glm_ocr") with
    {
        VocabSize = textJson.OptInt("vocab_size") ?? 59392,
        HiddenSize = textJson.OptInt("hidden_size") ?? 1024,
        IntermediateSize = textJson.OptInt("intermediate_size") ?? 4096,
        NumLayers = textJson.OptInt("num_hidden_layers") ?? 16,
        NumHeads = textJson.OptInt("num_attention_heads") ?? 16,
        NumKvHeads = textJson.OptInt("num_key_value_heads") ?? 8,
        HeadDim = textJson.OptInt("head_dim") ?? (textJson.OptInt("hidden_size") ?? 1024) / (textJson.OptInt("num_attention_heads") ?? 16),
        RmsNormEps = textJson.OptDouble("rms_norm_eps") ?? 1e-5,
        PartialRotaryFactor = textJson.OptDouble("partial_rotary_factor") ?? textJson.Object("rope_parameters")?.OptDouble("partial_rotary_factor") ?? 0.5,
        AttentionBias = false,
    });

    private static Glm4Config Glm4Text(ConfigJson textJson) => new(DenseGlmDefaults.Read(textJson, "glm4v") with
    {
        RmsNormEps = textJson.OptDouble("rms_norm_eps") ?? 1e-5,
        MaxPositions = textJson.OptInt("max_position_embeddings") ?? 32768,
    });

    private static int[] ReadMropeSection(ConfigJson text, int rotaryDims)
    {
        var scaling = text.Object("rope_scaling") ?? text.Object("rope_parameters")
            ?? throw new ModelFormatException($"{text.Origin}: required field 'rope_scaling' with 'mrope_section' is missing");
        int[] section = scaling.IntOrIntList("mrope_section");
        if (section.Length != 3 || section.Any(s => s < 0))
            throw new ModelFormatException($"{scaling.Origin}: field 'mrope_section' must be 3 non-negative integers (t, h, w), found [{string.Join(", ", section)}]");
        if (section.Sum() != rotaryDims / 2)
            throw new ModelFormatException($"{scaling.Origin}: field 'mrope_section' [{string.Join(", ", section)}] sums to {section.Sum()}, expected rotary dims / 2 = {rotaryDims / 2}");
        return section;
    }
}
