using GlmSharp.Configs;
using GlmSharp.Formats;
using GlmSharp.Kernels;

namespace GlmSharp.Models.Architectures;

/// <summary>
/// What the dense GLM architectures share: llama.cpp's tensor names (<see cref="GlmTensorNames"/>), the fused
/// <c>attn_qkv</c> / <c>query_key_value</c> layout served as separate q, k, v views, adjacent-pair partial RoPE (with
/// YaRN where the config asks), and <see cref="GlmDecoderLayer"/> blocks in the <see cref="CausalLm"/> frame.
/// </summary>
public abstract class DenseGlm : IArchitecture
{
    public abstract string ModelType { get; }
    public virtual IReadOnlyList<string> HfModelTypes => [ModelType];
    public abstract string GgufArchitecture { get; }
    public abstract IReadOnlyList<TensorNamePair> LayerTensorNames { get; }
    public abstract ModelConfig ConfigFromHf(ConfigJson json);
    public abstract ModelConfig ConfigFromGguf(GgufModelMetadata gguf);

    public virtual Dictionary<string, object> GgufMetadata(ModelConfig config) => GgufModelMetadata.FromDenseConfig(config, GgufArchitecture);

    /// <summary>Whether each sub-layer's output is normalised again before the residual add (GLM-4-0414's "sandwich").</summary>
    protected abstract bool SandwichNorms { get; }

    public virtual ITensorSource Sanitize(ITensorSource weights, ConfigJson? hfConfig, ModelConfig config) => new FusedQkvTensorSource(weights, config);

    /// <summary>
    /// How M-RoPE pairs a head's rotated dims. A GGUF glm4 with M-RoPE sections is GLM-4.1V's text model, whose q/k rows
    /// llama.cpp's converter reorders into split halves (ggml's M-RoPE pairs only so).
    /// </summary>
    protected virtual RopeLayout MultiSectionLayout => RopeLayout.SplitHalves;

    public CausalLm Build(ModelConfig config, ITensorSource owner, WeightBuilder weights)
    {
        // M-RoPE tokens carry (t, h, w, spare) positions.
        var rope = config.MropeSections is { } sections
            ? new RopeTable(MultiSectionLayout, config.RotaryDims, config.RopeTheta, sections, config.RopeScaling)
            : new RopeTable(RopeLayout.AdjacentPairs, config.RotaryDims, config.RopeTheta, scaling: config.RopeScaling);
        return CausalLm.FromLayers(config, owner, weights, rope, (layer, _) => new GlmDecoderLayer(layer, weights.Backend, config, rope, SandwichNorms));
    }
}
