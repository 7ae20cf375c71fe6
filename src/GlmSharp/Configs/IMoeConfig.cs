namespace GlmSharp.Configs;

/// <summary>A config whose layers past the dense ones route each row to experts.</summary>
public interface IMoeConfig
{
    MoeShape Moe { get; }
}
