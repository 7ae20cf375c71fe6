using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Numerics;

namespace GlmSharp.Cli;

/// <summary>
/// What an option's or argument's value must satisfy, checked while the command line is parsed, before any model is
/// loaded. A value that breaks a rule becomes one line naming the option, the value and what is allowed
/// ("--top-p 1.5: must be a number in (0, 1]"), which <see cref="CliRunner"/> prints with exit code 1.
/// Values the user did not write (defaults) are not checked.
/// </summary>
internal static class OptionRules
{
    /// <summary>A number in <paramref name="range"/>; text that is not a number gets the same message as one out of range.</summary>
    public static Option<T> Within<T>(this Option<T> option, NumericRange range) where T : struct, INumber<T>
    {
        option.CustomParser = result => ParseNumber<T>(option.Name, result, range) ?? default;
        return option;
    }

    /// <inheritdoc cref="Within{T}(Option{T}, NumericRange)"/>
    public static Option<T?> Within<T>(this Option<T?> option, NumericRange range) where T : struct, INumber<T>
    {
        option.CustomParser = result => ParseNumber<T>(option.Name, result, range);
        return option;
    }

    /// <summary>One of <paramref name="allowed"/> (exact spelling); help shows them as the value's name.</summary>
    public static Option<T> OneOf<T>(this Option<T> option, IReadOnlyCollection<string> allowed)
    {
        option.CompletionSources.Add([.. allowed]);
        return option.Require(value => allowed.Contains(value) ? null : $"must be one of {string.Join(", ", allowed)}");
    }

    public static Option<T> NotEmpty<T>(this Option<T> option) => option.Require(value => value.Length == 0 ? "must not be empty" : null);

    /// <summary>Adds a check of every value given to the option: <paramref name="problem"/> returns what is wrong, or null.</summary>
    public static Option<T> Require<T>(this Option<T> option, Func<string, string?> problem)
    {
        option.Validators.Add(result =>
        {
            if (result.Implicit) return;
            foreach (var token in result.Tokens)
                if (problem(token.Value) is { } message) result.AddError(Message(option.Name, token.Value, message));
        });
        return option;
    }

    /// <inheritdoc cref="Require{T}(Option{T}, Func{string, string?})"/>
    public static Argument<T> Require<T>(this Argument<T> argument, Func<string, string?> problem)
    {
        argument.Validators.Add(result =>
        {
            foreach (var token in result.Tokens)
                if (problem(token.Value) is { } message) result.AddError(Message(argument.Name, token.Value, message));
        });
        return argument;
    }

    public static string Message(string name, string value, string problem) =>
        value.Length == 0 ? $"{name}: {problem}" : $"{name} {value}: {problem}";

    private static T? ParseNumber<T>(string name, ArgumentResult result, NumericRange range) where T : struct, INumber<T>
    {
        string text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
        bool integer = typeof(T).GetInterfaces().Any(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IBinaryInteger<>));
        var style = integer ? NumberStyles.Integer : NumberStyles.Float;
        if (T.TryParse(text, style, CultureInfo.InvariantCulture, out var value) && range.Contains(double.CreateTruncating(value)))
            return value;
        result.AddError(Message(name, text, $"must be {range.Describe(integer)}"));
        return null;
    }
}
