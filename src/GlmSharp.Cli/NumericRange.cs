using System.Globalization;

namespace GlmSharp.Cli;

/// <summary>
/// The values a numeric option accepts: optional lower and upper bounds, each open or closed. Only finite values are
/// ever inside, so "nan" and "Infinity" (which .NET parses as floats) are refused like any other out-of-range value.
/// </summary>
internal sealed record NumericRange(double? Min, bool MinIncluded, double? Max, bool MaxIncluded)
{
    public static NumericRange Any { get; } = new(null, false, null, false);

    public static NumericRange AtLeast(double min) => new(min, true, null, false);

    public static NumericRange Above(double min) => new(min, false, null, false);

    /// <summary>[min, max]</summary>
    public static NumericRange Closed(double min, double max) => new(min, true, max, true);

    /// <summary>(min, max]</summary>
    public static NumericRange LeftOpen(double min, double max) => new(min, false, max, true);

    /// <summary>[min, max)</summary>
    public static NumericRange RightOpen(double min, double max) => new(min, true, max, false);

    public bool Contains(double value) =>
        double.IsFinite(value)
        && (Min is not { } low || (MinIncluded ? value >= low : value > low))
        && (Max is not { } high || (MaxIncluded ? value <= high : value < high));

    /// <summary>"an integer ≥ 1", "a number in (0, 1]", "a number": what to write after "must be".</summary>
    public string Describe(bool integer)
    {
        string kind = integer ? "an integer" : "a number";
        return (Min, Max) switch
        {
            (null, null) => kind,
            ({ } low, null) => $"{kind} {(MinIncluded ? "≥" : ">")} {Format(low)}",
            (null, { } high) => $"{kind} {(MaxIncluded ? "≤" : "<")} {Format(high)}",
            ({ } low, { } high) when integer && MinIncluded && MaxIncluded => $"{kind} from {Format(low)} to {Format(high)}",
            ({ } low, { } high) => $"{kind} in {(MinIncluded ? '[' : '(')}{Format(low)}, {Format(high)}{(MaxIncluded ? ']' : ')')}",
        };
    }

    private static string Format(double value) => value.ToString(CultureInfo.InvariantCulture);
}
