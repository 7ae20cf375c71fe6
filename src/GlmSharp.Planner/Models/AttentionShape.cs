using GlmSharp.Configs;

namespace GlmSharp.Planner.Models;

public enum AttentionKind { Gqa, Mla }

/// <summary>What the cost model needs to know about one layer's attention: GQA, or MLA with an optional DSA indexer.</summary>
public sealed record AttentionShape
{
    public required AttentionKind Kind { get; init; }
    public required int Heads { get; init; }
    public required int KvHeads { get; init; }
    public required int HeadDim { get; init; }
    public MlaShape? Mla { get; init; }
    public DsaIndexerShape? Indexer { get; init; }

    /// <summary>Parameters of the projections (Q, K, V, O or the MLA down/up projections) of one layer.</summary>
    public double ProjectionParams(int hidden) => Kind switch
    {
        AttentionKind.Gqa => (double)hidden * (Heads + 2 * KvHeads) * HeadDim + (double)Heads * HeadDim * hidden,
        _ => MlaProjectionParams(hidden),
    };

    private double MlaProjectionParams(int hidden)
    {
        var m = Mla!;
        double q = m.QLoraRank is { } r ? (double)hidden * r + (double)r * Heads * m.QkHeadDim : (double)hidden * Heads * m.QkHeadDim;
        double kvDown = (double)hidden * (m.KvLoraRank + m.QkRopeHeadDim);
        double kvUp = (double)m.KvLoraRank * Heads * (m.QkNopeHeadDim + m.VHeadDim);
        double o = (double)Heads * m.VHeadDim * hidden;
        return q + kvDown + kvUp + o + IndexerParams(hidden);
    }

    /// <summary>DSA indexer weights (query from the q-LoRA latent, one key head from the hidden state, head weights), per full layer.</summary>
    public double IndexerParams(int hidden) => Indexer is { } ix && Mla is { } m
        ? (double)(m.QLoraRank ?? hidden) * ix.Heads * ix.HeadDim + (double)hidden * ix.HeadDim + (double)hidden * ix.Heads
        : 0;

    /// <summary>KV-cache elements stored per token per layer: K and V heads for GQA, the latent plus the RoPE key for MLA.</summary>
    public int KvElementsPerToken => Kind == AttentionKind.Gqa ? 2 * KvHeads * HeadDim : Mla!.KvLoraRank + Mla.QkRopeHeadDim;

    /// <summary>Bytes per token per layer that the DSA indexer caches (FP8 key plus one FP32 scale), on layers that index.</summary>
    public int IndexerKeyBytesPerToken => Indexer is { } ix ? ix.HeadDim + 4 : 0;
}
