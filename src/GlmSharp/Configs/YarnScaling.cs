using GlmSharp.Errors;

namespace GlmSharp.Configs;

/// <summary>
/// YaRN context extension (Peng et al., 2023) as HF <c>rope_scaling: {type: yarn}</c> and llama.cpp's
/// <c>rope.scaling.type = yarn</c> define it. GLM-4-0414 recommends factor 4 over an original context of 32768 for
/// prompts longer than its native 32K. Pairs whose wavelength is short next to the original context keep their
/// frequency (extrapolate), long ones are divided by the factor (interpolate), a linear ramp blends the pairs between
/// <see cref="BetaFast"/> and <see cref="BetaSlow"/> rotations, and cos/sin grow by 1 + 0.1·ln(factor).
/// </summary>
public sealed record YarnScaling
{
    public const double DefaultBetaFast = 32, DefaultBetaSlow = 1;

    public YarnScaling(double factor, int originalContext, double betaFast = DefaultBetaFast, double betaSlow = DefaultBetaSlow)
    {
        if (Invalid(factor, originalContext, betaFast, betaSlow) is { } problem) throw new ArgumentException(problem);
        Factor = factor;
        OriginalContext = originalContext;
        BetaFast = betaFast;
        BetaSlow = betaSlow;
    }

    /// <summary>YaRN read from a model file; <paramref name="where"/> names the file and field in the error.</summary>
    public static YarnScaling FromFile(double factor, int originalContext, double? betaFast, double? betaSlow, string where)
    {
        double fast = betaFast ?? DefaultBetaFast, slow = betaSlow ?? DefaultBetaSlow;
        if (Invalid(factor, originalContext, fast, slow) is { } problem) throw new ModelFormatException($"{where}: {problem}");
        return new YarnScaling(factor, originalContext, fast, slow);
    }

    private static string? Invalid(double factor, int originalContext, double betaFast, double betaSlow) =>
        factor >= 1 && double.IsFinite(factor) && originalContext > 0 && betaFast > 0 && double.IsFinite(betaFast) && betaSlow > 0 && double.IsFinite(betaSlow) ? null
            : $"YaRN needs factor ≥ 1, an original context > 0 and positive betas; found factor {factor}, original context {originalContext}, betas {betaFast} / {betaSlow}";

    /// <summary>How many times longer than the original context positions may run.</summary>
    public double Factor { get; }

    /// <summary>The context the model was trained with (HF original_max_position_embeddings).</summary>
    public int OriginalContext { get; }

    /// <summary>Pairs that turn at least this many times over the original context extrapolate fully.</summary>
    public double BetaFast { get; }

    /// <summary>Pairs that turn at most this many times over the original context interpolate fully.</summary>
    public double BetaSlow { get; }
}
