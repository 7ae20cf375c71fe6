namespace GlmSharp.Planner.Cost;

/// <summary>
/// The work of one engine step on one DP rank: decode requests (each with its context) and prefill chunks. Sums are
/// what the operator costs need; <see cref="AttendedTokens"/> caps each context at the DSA top-k.
/// </summary>
public sealed record StepBatch
{
    public int DecodeRequests { get; init; }
    /// <summary>Query tokens in decode: requests × (1 + drafted tokens).</summary>
    public double DecodeTokens { get; init; }
    /// <summary>Σ context length over decode query tokens (KV positions each query can see).</summary>
    public double DecodeKvTokens { get; init; }
    /// <summary>Σ attended positions over decode query tokens (context capped at the sparse-attention top-k).</summary>
    public double AttendedTokens { get; init; }
    public double PrefillTokens { get; init; }
    /// <summary>Σ (past + chunk) tokens over prefill chunks: MLA prefill re-expands the whole latent context.</summary>
    public double PrefillContextTokens { get; init; }
    /// <summary>Causal query–key pairs in the prefill chunks.</summary>
    public double PrefillPairs { get; init; }
    /// <summary>Query–key pairs after capping each query's keys at the sparse-attention top-k.</summary>
    public double PrefillAttendedPairs { get; init; }
    /// <summary>Prompts whose last chunk is in this step (each needs one row of logits).</summary>
    public int PrefillCompletions { get; init; }

    public double Tokens => DecodeTokens + PrefillTokens;

    public static StepBatch Decode(int requests, double context, int draftTokens, int? topK)
    {
        double queries = requests * (1.0 + draftTokens);
        return new StepBatch
        {
            DecodeRequests = requests,
            DecodeTokens = queries,
            DecodeKvTokens = queries * context,
            AttendedTokens = queries * Math.Min(context, topK ?? double.MaxValue),
        };
    }

    /// <summary>A prefill chunk of <paramref name="chunk"/> tokens after <paramref name="past"/> cached ones.</summary>
    public static StepBatch Prefill(double chunk, double past, int? topK, bool completes)
    {
        double pairs = CausalPairs(past, chunk, double.MaxValue);
        return new StepBatch
        {
            PrefillTokens = chunk,
            PrefillContextTokens = past + chunk,
            PrefillPairs = pairs,
            PrefillAttendedPairs = topK is { } k ? CausalPairs(past, chunk, k) : pairs,
            PrefillCompletions = completes ? 1 : 0,
        };
    }

    public StepBatch Scale(double f) => new()
    {
        DecodeRequests = (int)Math.Round(DecodeRequests * f),
        DecodeTokens = DecodeTokens * f,
        DecodeKvTokens = DecodeKvTokens * f,
        AttendedTokens = AttendedTokens * f,
        PrefillTokens = PrefillTokens * f,
        PrefillContextTokens = PrefillContextTokens * f,
        PrefillPairs = PrefillPairs * f,
        PrefillAttendedPairs = PrefillAttendedPairs * f,
        PrefillCompletions = (int)Math.Round(PrefillCompletions * f),
    };

    /// <summary>One of two micro-batches: half the work, with the odd request (or completion) rounded into it.</summary>
    public StepBatch Half() => Scale(0.5) with
    {
        DecodeRequests = (DecodeRequests + 1) / 2,
        PrefillCompletions = (PrefillCompletions + 1) / 2,
    };

    public static StepBatch operator +(StepBatch a, StepBatch b) => new()
    {
        DecodeRequests = a.DecodeRequests + b.DecodeRequests,
        DecodeTokens = a.DecodeTokens + b.DecodeTokens,
        DecodeKvTokens = a.DecodeKvTokens + b.DecodeKvTokens,
        AttendedTokens = a.AttendedTokens + b.AttendedTokens,
        PrefillTokens = a.PrefillTokens + b.PrefillTokens,
        PrefillContextTokens = a.PrefillContextTokens + b.PrefillContextTokens,
        PrefillPairs = a.PrefillPairs + b.PrefillPairs,
        PrefillAttendedPairs = a.PrefillAttendedPairs + b.PrefillAttendedPairs,
        PrefillCompletions = a.PrefillCompletions + b.PrefillCompletions,
    };

    public static readonly StepBatch Empty = new();

    /// <summary>Pairs (query i, key j ≤ i) for queries past+1 … past+chunk, each seeing at most <paramref name="cap"/> keys.</summary>
    public static double CausalPairs(double past, double chunk, double cap)
    {
        double first = past + 1, last = past + chunk;
        if (last <= cap) return (first + last) * chunk / 2;
        if (first >= cap) return cap * chunk;
        double below = cap - first + 1;
        return (first + cap) * below / 2 + cap * (chunk - below);
    }
}
