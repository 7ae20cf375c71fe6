using System.Globalization;
using GlmSharp.Errors;

namespace GlmSharp.Cli;

/// <summary>Comma-separated token ids, as --token-ids takes them and --output ids prints them.</summary>
internal static class TokenIdList
{
    public static int[] Parse(string text, string option)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0) throw new GlmException($"{option}: no token ids given");
        var ids = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out ids[i]))
                throw new GlmException($"{option}: '{parts[i]}' is not a non-negative integer token id");
        return ids;
    }

    public static string Format(IEnumerable<int> ids) => string.Join(",", ids.Select(i => i.ToString(CultureInfo.InvariantCulture)));
}
