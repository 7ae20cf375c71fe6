namespace GlmSharp.Configs;

/// <summary>
/// A config whose checkpoint appends num_nextn_predict_layers multi-token-prediction (NextN) layers to its main stack
/// (glm4_moe, glm4_moe_lite, glm_moe_dsa): layers num_hidden_layers and on, which the main forward pass never runs.
/// </summary>
public interface INextNConfig
{
    int NextNLayers { get; }
}
