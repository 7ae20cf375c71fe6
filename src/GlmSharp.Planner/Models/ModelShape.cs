using GlmSharp.Configs;
using GlmSharp.Planner.Catalog;

namespace GlmSharp.Planner.Models;

/// <summary>
/// The planner's view of a model: which layers are dense or MoE, the attention shape, and parameter counts. Built from
/// the engine's config records, so the planner reads config.json exactly as the engine does.
/// </summary>
public sealed record ModelShape
{
    public required string Id { get; init; }
    public required ModelConfig Config { get; init; }
    public required AttentionShape Attention { get; init; }
    public MoeShape? Moe { get; init; }
    public required int DenseLayers { get; init; }
    public required int MoeLayers { get; init; }
    public required int NextNLayers { get; init; }

    public int Hidden => Config.HiddenSize;
    public int Layers => Config.NumLayers;
    public int Vocab => Config.VocabSize;

    /// <summary>Layers that run the DSA indexer (all layers for GLM-5/5.1, 21 of 78 with GLM-5.2's IndexShare).</summary>
    public int IndexerLayers => Attention.Indexer?.FullLayerCount ?? 0;

    public double DenseMlpParams => 3.0 * Hidden * Config.IntermediateSize;
    public double ExpertParams => Moe is { } m ? 3.0 * Hidden * m.ExpertIntermediateSize : 0;
    public double SharedExpertParams => Moe is { } m ? m.SharedExperts * ExpertParams : 0;
    public double RouterParams => Moe is { } m ? (double)Hidden * m.RoutedExperts : 0;
    public double EmbeddingParams => (double)Vocab * Hidden * (Config.TieWordEmbeddings ? 1 : 2);

    /// <summary>Attention parameters summed over layers (indexer weights only on layers that index).</summary>
    public double AttentionParams =>
        Layers * (Attention.ProjectionParams(Hidden) - Attention.IndexerParams(Hidden)) + IndexerLayers * Attention.IndexerParams(Hidden);

    public double TotalParams =>
        AttentionParams + DenseLayers * DenseMlpParams
        + MoeLayers * ((Moe?.RoutedExperts ?? 0) * ExpertParams + SharedExpertParams + RouterParams) + EmbeddingParams;

    public double ActiveParams =>
        AttentionParams + DenseLayers * DenseMlpParams
        + MoeLayers * ((Moe?.ExpertsPerToken ?? 0) * ExpertParams + SharedExpertParams + RouterParams) + EmbeddingParams;

    /// <summary>KV-cache bytes per token over all layers, with <paramref name="kvBytes"/> bytes per element.</summary>
    public double KvBytesPerToken(double kvBytes) =>
        Layers * Attention.KvElementsPerToken * kvBytes + IndexerLayers * Attention.IndexerKeyBytesPerToken;

    public static ModelShape From(string id, ModelConfig config) => config switch
    {
        Glm4MoeConfig c => WithMoe(id, c, Gqa(c), c.Moe, c.Moe.FirstDenseLayers, c.NextNLayers),
        MlaMoeConfig c => WithMoe(id, c, Mla(c, c.Mla, null), c.Moe, c.Moe.FirstDenseLayers, c.NextNLayers),
        GlmMoeDsaConfig c => WithMoe(id, c, Mla(c, c.Mla, c.Indexer), c.Moe, c.Moe.FirstDenseLayers, c.NextNLayers),
        Qwen3MoeConfig c => WithMoe(id, c, Gqa(c), c.Moe, c.SparseLayers.Count(s => !s), 0),
        _ => new ModelShape { Id = id, Config = config, Attention = Gqa(config), DenseLayers = config.NumLayers, MoeLayers = 0, NextNLayers = 0 },
    };

    private static ModelShape WithMoe(string id, ModelConfig c, AttentionShape attention, MoeShape moe, int dense, int nextN)
    {
        if (dense > c.NumLayers) throw new PlanRequestException($"model '{id}': {dense} dense layers exceed num_hidden_layers {c.NumLayers}");
        return new ModelShape { Id = id, Config = c, Attention = attention, Moe = moe, DenseLayers = dense, MoeLayers = c.NumLayers - dense, NextNLayers = nextN };
    }

    private static AttentionShape Gqa(ModelConfig c) => new()
    {
        Kind = AttentionKind.Gqa, Heads = c.NumHeads, KvHeads = c.NumKvHeads, HeadDim = c.HeadDim,
    };

    private static AttentionShape Mla(ModelConfig c, MlaShape mla, DsaIndexerShape? indexer) => new()
    {
        Kind = AttentionKind.Mla, Heads = c.NumHeads, KvHeads = 1, HeadDim = mla.QkHeadDim, Mla = mla, Indexer = indexer,
    };
}
