using GlmSharp.Errors;

namespace GlmSharp.Configs;

/// <summary>Reads a Hugging Face <c>config.json</c> into the config record of its <c>model_type</c>.</summary>
public static class HfConfigLoader
{
    private static readonly Dictionary<string, Func<ConfigJson, ModelConfig>> Parsers = new()
    {
        ["glm"] = GlmConfig.FromJson,
        ["glm4"] = Glm4Config.FromJson,
        ["glm4v"] = j => Glm4vConfig.FromJson(j).Text,
        ["glm4v_moe"] = j => Glm4vConfig.FromJson(j).Text,
        ["glm_ocr"] = j => Glm4vConfig.FromJson(j).Text,
        ["chatglm"] = ChatGlmConfigJson.Read,
        ["glm4_moe"] = Glm4MoeConfig.FromJson,
        ["glm4_moe_lite"] = MlaMoeConfig.Glm4MoeLiteFromJson,
        ["deepseek_v3"] = MlaMoeConfig.DeepseekV3FromJson,
        ["glm_moe_dsa"] = GlmMoeDsaConfig.FromJson,
        ["qwen3_moe"] = Qwen3MoeConfig.FromJson,
    };

    public static IReadOnlyCollection<string> KnownModelTypes => Parsers.Keys;

    public static ModelConfig Load(string configPath) => Parse(ConfigJson.Load(configPath));

    public static ModelConfig Parse(ConfigJson json)
    {
        string modelType = json.String("model_type");
        if (!Parsers.TryGetValue(modelType, out var parse))
            throw new UnsupportedModelException(
                $"{json.Origin}: model_type '{modelType}' is not supported (known: {string.Join(", ", Parsers.Keys.Order())})");
        return parse(json);
    }
}
