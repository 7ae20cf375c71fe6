using GlmSharp.Configs;
using GlmSharp.Planner.Catalog;

namespace GlmSharp.Planner.Models;

/// <summary>Models by catalog id (the shipped Hugging Face config.json files) or by a path to a config.json.</summary>
public static class ModelCatalog
{
    /// <summary>Catalog aliases: DeepSeek-R1 and V3.1 share DeepSeek-V3's shape.</summary>
    private static readonly Dictionary<string, string> Aliases = new()
    {
        ["deepseek-r1"] = "deepseek-v3",
        ["deepseek-v3.1"] = "deepseek-v3",
        ["glm-5.1"] = "glm-5",
        ["glm-5.3"] = "glm-5.2",
    };

    public static IEnumerable<string> Ids => EmbeddedData.List("models");

    public static ModelShape Load(string idOrPath)
    {
        if (idOrPath.EndsWith(".json", StringComparison.OrdinalIgnoreCase) || File.Exists(idOrPath) || Directory.Exists(idOrPath))
        {
            string path = Directory.Exists(idOrPath) ? Path.Combine(idOrPath, "config.json") : idOrPath;
            string name = Path.GetFileName(path) == "config.json"
                ? Path.GetFileName(Path.GetDirectoryName(Path.GetFullPath(path))) ?? path
                : Path.GetFileNameWithoutExtension(path);
            return ModelShape.From(name, HfConfigLoader.Load(path));
        }
        string id = Aliases.GetValueOrDefault(idOrPath, idOrPath);
        if (!Ids.Contains(id))
            throw new PlanRequestException($"unknown model '{idOrPath}' (shipped: {string.Join(", ", Ids)}; or pass a config.json path)");
        var json = ConfigJson.Parse(EmbeddedData.Text($"models/{id}.json"), $"models/{id}.json (shipped)");
        return ModelShape.From(idOrPath, HfConfigLoader.Parse(json));
    }
}
