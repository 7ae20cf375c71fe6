using GlmSharp.Configs;
using GlmSharp.Errors;
using GlmSharp.Formats;
using GlmSharp.Kernels;

namespace GlmSharp.Models.Architectures;

/// <summary>
/// GLM-4.1V-Thinking's text decoder (<c>model_type: "glm4v"</c>, Glm4vForConditionalGeneration): GLM-4-0414's sandwich
/// layers with M-RoPE — each rotated pair driven by the t, h or w position component its mrope_section gives it, pairs
/// adjacent as in the Hugging Face weights. The checkpoint keeps the decoder under <c>model.language_model.</c> (older
/// files: <c>model.</c>) beside the vision tower (<c>model.visual.</c>, read by the vision tower, not here).
/// llama.cpp holds the same decoder as a glm4 GGUF with rope.dimension_sections, its q/k rows reordered into split
/// halves; that file loads through <see cref="Glm4"/>. GLM-OCR (<c>model_type: "glm_ocr"</c>) is the same decoder at its
/// own sizes, without q/k/v biases and rotating every dim, beside a tower of its own layout.
/// </summary>
public sealed class Glm4v : DenseGlm
{
    private const string LanguageModelPrefix = "model.language_model.";

    public override string ModelType => "glm4v";
    public override IReadOnlyList<string> HfModelTypes => [ModelType, "glm_ocr"];
    public override string GgufArchitecture => "glm4";
    public override IReadOnlyList<TensorNamePair> LayerTensorNames => GlmTensorNames.SandwichLayer;
    protected override bool SandwichNorms => true;
    protected override RopeLayout MultiSectionLayout => RopeLayout.AdjacentPairs;

    public override ModelConfig ConfigFromHf(ConfigJson json) => Glm4vConfig.FromJson(json).Text;

    public override ModelConfig ConfigFromGguf(GgufModelMetadata gguf) =>
        throw new UnsupportedModelException($"{gguf.Origin}: llama.cpp stores glm4v's text model as glm4 with rope.dimension_sections; it loads as glm4");

    /// <summary>
    /// Refused: llama.cpp's converter reorders glm4v's q/k rows for ggml's split-half M-RoPE, which `glm convert` does not
    /// do; a GGUF written without it would run with the wrong pairs.
    /// </summary>
    public override Dictionary<string, object> GgufMetadata(ModelConfig config) =>
        throw new UnsupportedModelException("glm4v: converting to GGUF is not supported (llama.cpp's converter reorders the q/k rows for its M-RoPE); use llama.cpp's convert_hf_to_gguf.py");

    public override ITensorSource Sanitize(ITensorSource weights, ConfigJson? hfConfig, ModelConfig config) =>
        base.Sanitize(new RenamedTensorSource(weights, DecoderName), hfConfig, config);

    /// <summary>A stored tensor's name as the decoder loads it (<c>model.*</c>, <c>lm_head.*</c>), or null for the vision tower's.</summary>
    public static string? DecoderName(string stored) =>
        stored.StartsWith(LanguageModelPrefix, StringComparison.Ordinal) ? "model." + stored[LanguageModelPrefix.Length..]
        : stored.StartsWith("model.visual.", StringComparison.Ordinal) || stored.StartsWith("visual.", StringComparison.Ordinal) ? null
        : stored;

    /// <summary>A decoder tensor's name as transformers saves a Glm4vForConditionalGeneration (under <c>model.language_model.</c>).</summary>
    public static string StoredName(string decoderName) =>
        decoderName.StartsWith("model.", StringComparison.Ordinal) ? LanguageModelPrefix + decoderName["model.".Length..] : decoderName;
}
