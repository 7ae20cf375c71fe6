using GlmSharp.Configs;
using GlmSharp.Formats;
using GlmSharp.Models;

namespace GlmSharp.Tests.Support;

/// <summary>
/// An architecture exported as llama.cpp's newer converter writes GLM-4.7-Flash (conversion/glm.py, Glm4MoeLiteModel):
/// the multi-token-prediction layers appended as blocks, block_count counting them, nextn_predict_layers naming them.
/// GlmSharp's own export of deepseek2 leaves them out, since this llama.cpp refuses such a file; GlmSharp reads it.
/// </summary>
internal sealed class NextNBlocksArchitecture(IArchitecture inner) : IArchitecture
{
    public string ModelType => inner.ModelType;
    public IReadOnlyList<string> HfModelTypes => inner.HfModelTypes;
    public string GgufArchitecture => inner.GgufArchitecture;
    public IReadOnlyList<TensorNamePair> LayerTensorNames => inner.LayerTensorNames;

    public ModelConfig ConfigFromHf(ConfigJson json) => inner.ConfigFromHf(json);

    public ModelConfig ConfigFromGguf(GgufModelMetadata gguf) => inner.ConfigFromGguf(gguf);

    public Dictionary<string, object> GgufMetadata(ModelConfig config)
    {
        var keys = inner.GgufMetadata(config);
        int nextN = ((INextNConfig)config).NextNLayers;
        keys[$"{GgufArchitecture}.block_count"] = (uint)(config.NumLayers + nextN);
        keys[$"{GgufArchitecture}.nextn_predict_layers"] = (uint)nextN;
        return keys;
    }

    public ITensorSource Sanitize(ITensorSource weights, ConfigJson? hfConfig, ModelConfig config) => inner.Sanitize(weights, hfConfig, config);

    public CausalLm Build(ModelConfig config, ITensorSource owner, WeightBuilder weights) => inner.Build(config, owner, weights);
}
