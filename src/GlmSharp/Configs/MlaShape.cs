namespace GlmSharp.Configs;

/// <summary>
/// Multi-head latent attention (DeepSeek-V2/V3, GLM-4.7-Flash, GLM-5): queries optionally pass through a low-rank
/// bottleneck, keys and values are cached as one compressed latent of <see cref="KvLoraRank"/> plus a shared RoPE key.
/// </summary>
public sealed record MlaShape
{
    /// <summary>Null when queries are projected directly (DeepSeek-V2-Lite).</summary>
    public required int? QLoraRank { get; init; }
    public required int KvLoraRank { get; init; }
    public required int QkNopeHeadDim { get; init; }
    public required int QkRopeHeadDim { get; init; }
    public required int VHeadDim { get; init; }

    public int QkHeadDim => QkNopeHeadDim + QkRopeHeadDim;

    public static MlaShape Read(ConfigJson j, MlaShape defaults) => new()
    {
        QLoraRank = QLoraRankOf(j, defaults),
        KvLoraRank = j.OptInt("kv_lora_rank") ?? defaults.KvLoraRank,
        QkNopeHeadDim = j.OptInt("qk_nope_head_dim") ?? defaults.QkNopeHeadDim,
        QkRopeHeadDim = j.OptInt("qk_rope_head_dim") ?? defaults.QkRopeHeadDim,
        VHeadDim = j.OptInt("v_head_dim") ?? defaults.VHeadDim,
    };

    /// <summary>An explicit <c>"q_lora_rank": null</c> means "no query bottleneck"; only a missing key takes the default.</summary>
    private static int? QLoraRankOf(ConfigJson j, MlaShape defaults) =>
        j.Raw("q_lora_rank") is null ? defaults.QLoraRank : j.OptInt("q_lora_rank");
}
