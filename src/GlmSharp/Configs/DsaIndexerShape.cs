using GlmSharp.Errors;

namespace GlmSharp.Configs;

/// <summary>
/// The DeepSeek-Sparse-Attention "lightning indexer" of glm_moe_dsa: a small multi-head scorer picks the
/// <see cref="TopK"/> past tokens each query attends to. With IndexShare (GLM-5.2+) only "full" layers run the
/// indexer; "shared" layers reuse the previous full layer's selection and carry no indexer weights.
/// </summary>
public sealed record DsaIndexerShape
{
    public required int Heads { get; init; }
    public required int HeadDim { get; init; }
    public required int TopK { get; init; }

    /// <summary>One flag per decoder layer: true where the layer computes its own top-k.</summary>
    public required bool[] FullLayers { get; init; }

    public int FullLayerCount => FullLayers.Count(f => f);

    /// <summary>Whether the layer runs its own indexer: a full layer of the main stack, or a multi-token-prediction layer past it (GLM-5's ships one).</summary>
    public bool IsFull(int layer) => layer >= FullLayers.Length || FullLayers[layer];

    public static DsaIndexerShape Read(ConfigJson j, int layers) => new()
    {
        Heads = j.OptInt("index_n_heads") ?? 32,
        HeadDim = j.OptInt("index_head_dim") ?? 128,
        TopK = j.OptInt("index_topk") ?? 2048,
        FullLayers = ReadSchedule(j, layers),
    };

    /// <summary>
    /// IndexShare's schedule from the GLM-5.2 reference: layer i is shared when max(i - offset + 1, 0) % freq != 0.
    /// GLM-5.2 (freq 4, offset 3) indexes layers 0, 1, 2, 6, 10, …, 74: 21 of 78.
    /// </summary>
    public static bool[] Schedule(int layers, int freq, int offset) =>
        [.. Enumerable.Range(0, layers).Select(layer => Math.Max(layer - offset + 1, 0) % freq == 0)];

    private static bool[] ReadSchedule(ConfigJson j, int layers)
    {
        if (j.Raw("indexer_types") is { ValueKind: System.Text.Json.JsonValueKind.Array } types)
        {
            var flags = types.EnumerateArray().Select(t => t.GetString() switch
            {
                "full" => true,
                "shared" => false,
                _ => throw new ModelFormatException($"{j.Origin}: field 'indexer_types' holds {t.GetRawText()}, expected \"full\" or \"shared\""),
            }).ToArray();
            if (flags.Length != layers)
                throw new ModelFormatException($"{j.Origin}: field 'indexer_types' has {flags.Length} entries, expected num_hidden_layers = {layers}");
            return flags;
        }
        if (j.OptInt("index_topk_freq") is { } freq)
        {
            if (freq < 1) throw new ModelFormatException($"{j.Origin}: field 'index_topk_freq' must be >= 1, found {freq}");
            // transformers' GlmMoeDsaConfig takes offset 2 when the config names a frequency but no offset.
            return Schedule(layers, freq, j.OptInt("index_skip_topk_offset") ?? 2);
        }
        return [.. Enumerable.Repeat(true, layers)];
    }
}
