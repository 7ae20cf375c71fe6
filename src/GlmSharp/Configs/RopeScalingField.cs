using GlmSharp.Errors;

namespace GlmSharp.Configs;

/// <summary>
/// Reads a Hugging Face <c>rope_scaling</c> (or transformers 5's <c>rope_parameters</c>) object: none or "default"
/// means plain RoPE, "yarn" gives <see cref="YarnScaling"/>. Anything else would change the angles in a way GlmSharp
/// does not compute, so it is refused rather than ignored.
/// </summary>
internal static class RopeScalingField
{
    public static YarnScaling? Read(ConfigJson j, int maxPositions)
    {
        var scaling = j.Object("rope_scaling") ?? j.Object("rope_parameters");
        if (scaling is null) return null;
        string type = scaling.OptString("rope_type") ?? scaling.OptString("type") ?? "default";
        if (type == "default") return null;
        if (type != "yarn")
            throw new UnsupportedModelException($"{scaling.Origin}: rope type '{type}' is not supported; GlmSharp runs default RoPE or YaRN");
        foreach (string key in (string[])["attention_factor", "mscale", "mscale_all_dim"])
            if (scaling.Has(key)) throw new UnsupportedModelException($"{scaling.Origin}: YaRN field '{key}' is not supported");
        if (scaling.OptBool("truncate") == false) throw new UnsupportedModelException($"{scaling.Origin}: YaRN with truncate = false is not supported");

        // transformers falls back to max_position_embeddings when the original context is not given.
        return YarnScaling.FromFile(scaling.Double("factor"), scaling.OptInt("original_max_position_embeddings") ?? maxPositions,
            scaling.OptDouble("beta_fast"), scaling.OptDouble("beta_slow"), scaling.Origin);
    }
}
