using System.Reflection;
using System.Text.Json;

namespace GlmSharp.Planner.Catalog;

/// <summary>The data files shipped inside this assembly (Data/ in the source tree).</summary>
public static class EmbeddedData
{
    private static readonly Assembly Assembly = typeof(EmbeddedData).Assembly;
    private const string Prefix = "GlmSharp.Planner.Data.";

    public static JsonElement Json(string relativePath) => Parse(Text(relativePath), $"{relativePath} (shipped)");

    public static string Text(string relativePath)
    {
        string name = Prefix + relativePath;
        using var stream = Assembly.GetManifestResourceStream(name)
            ?? throw new PlanRequestException($"shipped data file '{relativePath}' is missing from the planner assembly");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    /// <summary>Names under <paramref name="folder"/>, without the folder and extension (e.g. models → "glm-5").</summary>
    public static IEnumerable<string> List(string folder)
    {
        string prefix = Prefix + folder + "/";
        return Assembly.GetManifestResourceNames().Where(n => n.StartsWith(prefix, StringComparison.Ordinal) && n.EndsWith(".json", StringComparison.Ordinal))
            .Select(n => n[prefix.Length..^".json".Length]).Order();
    }

    public static JsonElement ParseFile(string path)
    {
        if (!File.Exists(path)) throw new CatalogFormatException($"{path}: file not found");
        return Parse(File.ReadAllText(path), path);
    }

    public static JsonElement Parse(string json, string origin)
    {
        try
        {
            using var doc = JsonDocument.Parse(json, new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
            return doc.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new CatalogFormatException($"{origin}: not valid JSON ({e.Message})");
        }
    }
}
