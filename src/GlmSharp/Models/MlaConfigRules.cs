using GlmSharp.Configs;
using GlmSharp.Errors;
using GlmSharp.Formats;
using GlmSharp.Kernels;

namespace GlmSharp.Models;

/// <summary>What every MLA architecture (glm4_moe_lite, glm_moe_dsa) asks of its config, from config.json or from GGUF.</summary>
public static class MlaConfigRules
{
    /// <summary>Refuses config.json fields this port does not compute: routing other than sigmoid, partial rotation of the rope part.</summary>
    public static void CheckHf(ConfigJson json, ModelConfig config)
    {
        if (json.OptString("scoring_func") is { } scoring and not "sigmoid")
            throw new UnsupportedModelException($"{json.Origin}: scoring_func '{scoring}' is not supported; {config.ModelType} routes with sigmoid scores");
        if (config.PartialRotaryFactor != 1)
            throw new UnsupportedModelException($"{json.Origin}: partial_rotary_factor {config.PartialRotaryFactor} is not supported; MLA rotates all qk_rope_head_dim dims");
    }

    /// <summary>
    /// A GGUF's dense fields as the config records them: the converter writes head_count_kv 1 (MLA as one shared latent
    /// head) where the Hugging Face config counts every head, and the head dim of these configs is the rope width.
    /// </summary>
    public static ModelConfig FromGguf(ModelConfig fields, MlaShape mla) =>
        fields with { NumKvHeads = fields.NumHeads, HeadDim = mla.QkRopeHeadDim, PartialRotaryFactor = 1 };

    /// <summary>Head sizes every MLA product needs positive, a RoPE width that is even, and what this port does not compute yet.</summary>
    public static void Check(ModelConfig config, MlaShape s, string origin)
    {
        foreach (var (key, value) in (ReadOnlySpan<(string, int)>)[("qk_nope_head_dim", s.QkNopeHeadDim), ("v_head_dim", s.VHeadDim),
                     ("kv_lora_rank", s.KvLoraRank), ("q_lora_rank", s.QLoraRank ?? 1)])
            if (value < 1 || value > ModelConfigLimits.MaxWidth)
                throw new ModelFormatException($"{origin}: {key} {value} is outside [1, {ModelConfigLimits.MaxWidth}]");
        if (s.QkRopeHeadDim < 2 || s.QkRopeHeadDim % 2 != 0 || s.QkRopeHeadDim > ModelConfigLimits.MaxHeadDim)
            throw new ModelFormatException($"{origin}: qk_rope_head_dim {s.QkRopeHeadDim} must be even, from 2 to {ModelConfigLimits.MaxHeadDim}");
        if (config.RopeScaling is not null)
            throw new UnsupportedModelException($"{origin}: YaRN rope scaling on an MLA model (its mscale folds into the attention scale) is not supported yet");
    }

    /// <summary>
    /// The layers as they load: the main stack and its num_nextn_predict_layers multi-token-prediction layers (layers
    /// past those dropped), each with a fused kv_b served split per head.
    /// </summary>
    public static ITensorSource ReadLayers(ITensorSource weights, ModelConfig config)
    {
        int layers = config.NumLayers + ((INextNConfig)config).NextNLayers;
        return new MlaKvSplitTensorSource(new RenamedTensorSource(weights, name => GlmTensorNames.HfLayerOf(name) >= layers ? null : name), config);
    }

    /// <summary>Adjacent pairs over the qk_rope_head_dim rotary dims: ggml's NORM rope, on the weights as Hugging Face stores them.</summary>
    public static RopeTable Rope(ModelConfig config, MlaShape mla) => new(RopeLayout.AdjacentPairs, mla.QkRopeHeadDim, config.RopeTheta);
}
