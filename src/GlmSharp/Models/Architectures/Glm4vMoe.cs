using GlmSharp.Configs;
using GlmSharp.Errors;
using GlmSharp.Formats;

namespace GlmSharp.Models.Architectures;

/// <summary>
/// GLM-4.5V / GLM-4.6V's text decoder (<c>model_type: "glm4v_moe"</c>, Glm4vMoeForConditionalGeneration): GLM-4.5-Air's
/// layers (<see cref="Glm4Moe"/>: pre-norm, sigmoid-routed experts after the dense lead layers, no q/k norms) with
/// M-RoPE — each rotated pair driven by the t, h or w position its mrope_section gives it. Unlike GLM-4.1V, the pairs
/// are split halves in the Hugging Face weights already, so llama.cpp's converter writes the q/k rows unchanged into a
/// glm4moe GGUF with rope.dimension_sections, which loads through <see cref="Glm4Moe"/>. The checkpoint keeps the
/// decoder under <c>model.language_model.</c> beside the vision tower (<c>model.visual.</c>, GLM-4.1V's tower).
/// </summary>
public sealed class Glm4vMoe : IArchitecture
{
    private readonly Glm4Moe _decoder = new();

    public string ModelType => "glm4v_moe";
    public IReadOnlyList<string> HfModelTypes => [ModelType];
    public string GgufArchitecture => _decoder.GgufArchitecture;
    public IReadOnlyList<TensorNamePair> LayerTensorNames => _decoder.LayerTensorNames;

    public ModelConfig ConfigFromHf(ConfigJson json) => Glm4vConfig.FromJson(json).Text;

    public ModelConfig ConfigFromGguf(GgufModelMetadata gguf) =>
        throw new UnsupportedModelException($"{gguf.Origin}: llama.cpp stores glm4v_moe's text model as glm4moe with rope.dimension_sections; it loads as glm4moe");

    /// <summary>A glm4moe GGUF with the M-RoPE sections, as llama.cpp's converter writes GLM-4.5V's text model.</summary>
    public Dictionary<string, object> GgufMetadata(ModelConfig config) => _decoder.GgufMetadata(config);

    public ITensorSource Sanitize(ITensorSource weights, ConfigJson? hfConfig, ModelConfig config) =>
        _decoder.Sanitize(new RenamedTensorSource(weights, Glm4v.DecoderName), hfConfig, config);

    public CausalLm Build(ModelConfig config, ITensorSource owner, WeightBuilder weights) => _decoder.Build(config, owner, weights);
}
