using System.CommandLine;
using System.Globalization;

namespace GlmSharp.Cli;

/// <summary>Comma-separated token ids, as --token-ids takes them and --output ids prints them.</summary>
internal static class TokenIdList
{
    /// <summary>An option whose value is parsed into token ids while the command line is parsed; bad text is a one-line error naming it.</summary>
    public static Option<int[]> Option(string description, bool required = false)
    {
        var option = new Option<int[]>("--token-ids") { Description = description, Required = required };
        option.CustomParser = result =>
        {
            string text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
            if (Parse(text) is { } ids) return ids;
            result.AddError(OptionRules.Message(option.Name, text, "must be comma-separated token ids (integers ≥ 0), such as 1,2,3"));
            return [];
        };
        return option;
    }

    private static int[]? Parse(string text)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var ids = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out ids[i]))
                return null;
        return parts.Length > 0 ? ids : null;
    }

    public static string Format(IEnumerable<int> ids) => string.Join(",", ids.Select(i => i.ToString(CultureInfo.InvariantCulture)));
}
