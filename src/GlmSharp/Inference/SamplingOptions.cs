namespace GlmSharp.Inference;

/// <summary>
/// How the next token is picked from the logits. Temperature 0 means greedy. Filters apply in llama.cpp's order:
/// penalties → top-k → top-p → min-p → temperature → draw.
/// </summary>
public sealed record SamplingOptions
{
    public float Temperature { get; init; } = 0.8f;

    /// <summary>Keep the k most likely tokens; 0 keeps all.</summary>
    public int TopK { get; init; } = 40;

    /// <summary>Keep the smallest set of tokens whose probability mass reaches p; 1 keeps all.</summary>
    public float TopP { get; init; } = 0.95f;

    /// <summary>Drop tokens less likely than min-p times the most likely one; 0 keeps all.</summary>
    public float MinP { get; init; } = 0.05f;

    /// <summary>Divides positive (multiplies negative) logits of tokens seen in the penalty window; 1 disables.</summary>
    public float RepetitionPenalty { get; init; } = 1.0f;

    /// <summary>Subtracted once from the logit of every token seen in the penalty window.</summary>
    public float PresencePenalty { get; init; }

    /// <summary>Subtracted from a token's logit once per occurrence in the penalty window.</summary>
    public float FrequencyPenalty { get; init; }

    /// <summary>How many recent tokens the penalties look at.</summary>
    public int PenaltyWindow { get; init; } = 64;

    /// <summary>Same seed, same prompt, same model → same output.</summary>
    public int? Seed { get; init; }

    public static SamplingOptions Greedy { get; } = new() { Temperature = 0, TopK = 0, TopP = 1, MinP = 0 };

    /// <summary>What a checkpoint's generation_config.json chooses (greedy when do_sample is false), ours where it is silent.</summary>
    public static SamplingOptions Defaults(Configs.GenerationConfig checkpoint)
    {
        var ours = new SamplingOptions();
        return ours with
        {
            Temperature = checkpoint.DoSample == false ? 0 : (float?)checkpoint.Temperature ?? ours.Temperature,
            TopK = checkpoint.TopK ?? ours.TopK,
            TopP = (float?)checkpoint.TopP ?? ours.TopP,
        };
    }

    public void Validate()
    {
        if (Temperature < 0 || float.IsNaN(Temperature)) throw new ArgumentOutOfRangeException(nameof(Temperature), Temperature, "temperature must be ≥ 0");
        if (TopK < 0) throw new ArgumentOutOfRangeException(nameof(TopK), TopK, "top-k must be ≥ 0");
        if (TopP is <= 0 or > 1 || float.IsNaN(TopP)) throw new ArgumentOutOfRangeException(nameof(TopP), TopP, "top-p must be in (0, 1]");
        if (MinP is < 0 or >= 1 || float.IsNaN(MinP)) throw new ArgumentOutOfRangeException(nameof(MinP), MinP, "min-p must be in [0, 1)");
        if (RepetitionPenalty <= 0 || float.IsNaN(RepetitionPenalty)) throw new ArgumentOutOfRangeException(nameof(RepetitionPenalty), RepetitionPenalty, "repetition penalty must be > 0");
        if (PenaltyWindow < 0) throw new ArgumentOutOfRangeException(nameof(PenaltyWindow), PenaltyWindow, "penalty window must be ≥ 0");
    }
}
