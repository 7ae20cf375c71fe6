namespace GlmSharp.Configs;

/// <summary>A config whose attention is multi-head latent attention (deepseek_v3, glm4_moe_lite, glm_moe_dsa).</summary>
public interface IMlaConfig
{
    MlaShape Mla { get; }
}
