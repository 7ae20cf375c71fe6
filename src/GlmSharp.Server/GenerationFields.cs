using System.Text.Json;
using GlmSharp.Inference;

namespace GlmSharp.Server;

/// <summary>The request fields chat and text completions share: sampling, length, stop strings, and how the answer is delivered.</summary>
internal static class GenerationFields
{
    public const int MaxChoices = 8;

    /// <param name="specialTokensAsText">Whether GLM's tags (think, tool calls) reach the text, for a reply parser to read.</param>
    public static GenerationOptions Parse(JsonElement body, SamplingOptions defaults, int contextLength, int defaultMaxTokens, bool specialTokensAsText)
    {
        var sampling = defaults with
        {
            Temperature = (float?)Number(body, "temperature", 0, 2) ?? defaults.Temperature,
            TopP = Fraction(body, "top_p", zeroAllowed: false, oneAllowed: true) ?? defaults.TopP,
            TopK = (int?)Number(body, "top_k", 0, 1_000_000) ?? defaults.TopK,
            MinP = Fraction(body, "min_p", zeroAllowed: true, oneAllowed: false) ?? defaults.MinP,
            PresencePenalty = (float?)Number(body, "presence_penalty", -2, 2) ?? defaults.PresencePenalty,
            FrequencyPenalty = (float?)Number(body, "frequency_penalty", -2, 2) ?? defaults.FrequencyPenalty,
            RepetitionPenalty = (float?)Number(body, "repetition_penalty", 0.01, 10) ?? defaults.RepetitionPenalty,
            Seed = (int?)Number(body, "seed", int.MinValue, int.MaxValue) ?? defaults.Seed,
        };
        int maxTokens = (int?)(Number(body, "max_completion_tokens", 1, contextLength) ?? Number(body, "max_tokens", 1, contextLength)) ?? defaultMaxTokens;
        // vLLM's ignore_eos: generate max_tokens whatever comes, as benchmarks want.
        IReadOnlyList<int>? stopIds = Bool(body, "ignore_eos") == true ? [] : null;
        return new GenerationOptions { MaxTokens = maxTokens, Sampling = sampling, StopStrings = Stops(body), IncludeSpecialTokens = specialTokensAsText, StopTokenIds = stopIds };
    }

    /// <summary>Chat's <c>logprobs: true</c> with <c>top_logprobs</c> alternatives (0 to 20); null when not asked for.</summary>
    public static int? ChatLogprobs(JsonElement body)
    {
        int? top = (int?)Number(body, "top_logprobs", 0, TokenLogprobs.MaxTop);
        if (Bool(body, "logprobs") == true) return top ?? 0;
        if (top is not null) throw ApiError.Invalid("'top_logprobs' needs 'logprobs': true", "top_logprobs");
        return null;
    }

    /// <summary>The completions endpoint's <c>logprobs</c>: how many alternatives to list (0 to 20); null when not asked for.</summary>
    public static int? CompletionLogprobs(JsonElement body) => (int?)Number(body, "logprobs", 0, TokenLogprobs.MaxTop);

    /// <summary>How many answers (<c>n</c>), whether streamed, and whether the stream ends with usage.</summary>
    public static (int Choices, bool Stream, bool IncludeUsage) Delivery(JsonElement body)
    {
        bool stream = Bool(body, "stream") ?? false;
        bool includeUsage = body.TryGetProperty("stream_options", out var streamOptions) && streamOptions.ValueKind == JsonValueKind.Object && (Bool(streamOptions, "include_usage") ?? false);
        return ((int?)Number(body, "n", 1, MaxChoices) ?? 1, stream, includeUsage);
    }

    internal static IReadOnlyList<string> Stops(JsonElement body)
    {
        if (!body.TryGetProperty("stop", out var stop) || stop.ValueKind == JsonValueKind.Null) return [];
        if (stop.ValueKind == JsonValueKind.String && stop.GetString()!.Length > 0) return [stop.GetString()!];
        if (stop.ValueKind == JsonValueKind.Array && stop.EnumerateArray().All(s => s.ValueKind == JsonValueKind.String && s.GetString()!.Length > 0))
            return [.. stop.EnumerateArray().Select(s => s.GetString()!)];
        throw ApiError.Invalid("'stop' must be a string or an array of non-empty strings", "stop");
    }

    internal static double? Number(JsonElement body, string name, double min, double max)
    {
        if (!body.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out double number) || double.IsNaN(number) || number < min || number > max)
            throw ApiError.Invalid($"'{name}' must be a number from {min} to {max}", name);
        return number;
    }

    /// <summary>
    /// A probability as the sampler takes it, a float: top-p keeps some mass (above 0, at most 1), min-p cannot ask for
    /// more than the top token (at least 0, below 1). Judged after rounding to float, so 1e-50 is 0 and 0.999999999 is 1.
    /// </summary>
    private static float? Fraction(JsonElement body, string name, bool zeroAllowed, bool oneAllowed)
    {
        if (Number(body, name, 0, 1) is not { } number) return null;
        float fraction = (float)number;
        if ((fraction == 0 && !zeroAllowed) || (fraction == 1 && !oneAllowed))
            throw ApiError.Invalid($"'{name}' must be {(zeroAllowed ? "at least 0" : "greater than 0")} and {(oneAllowed ? "at most 1" : "below 1")}", name);
        return fraction;
    }

    internal static bool? Bool(JsonElement body, string name)
    {
        if (!body.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        return value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw ApiError.Invalid($"'{name}' must be true or false", name),
        };
    }
}
