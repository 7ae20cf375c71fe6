using System.Text.Json;

namespace GlmSharp.Serving;

/// <summary>
/// The JSON types of each tool's parameters, from OpenAI-style tool definitions
/// (<c>[{"type": "function", "function": {"name", "parameters": {JSON Schema}}}]</c>): GLM writes every argument value
/// as text, and the schema says which to keep as strings and which to parse.
/// </summary>
public sealed class ToolSchemas
{
    private readonly Dictionary<string, Dictionary<string, string>> _types = new(StringComparer.Ordinal);

    public static ToolSchemas None { get; } = new();

    /// <summary>
    /// Tool name → parameter name → JSON Schema type ("string", "integer", "object", …; "" when the schema gives none).
    /// A parameter named twice (JSON allows repeated keys) keeps its last type, as a JSON parser keeps the last value.
    /// </summary>
    public void Add(string tool, IEnumerable<(string Parameter, string Type)> parameters)
    {
        var types = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (parameter, type) in parameters) types[parameter] = type;
        _types[tool] = types;
    }

    /// <summary>Reads an OpenAI <c>tools</c> array; entries that are not functions with a name are skipped.</summary>
    public static ToolSchemas FromOpenAiTools(JsonElement tools)
    {
        var schemas = new ToolSchemas();
        if (tools.ValueKind != JsonValueKind.Array) return schemas;
        foreach (var tool in tools.EnumerateArray())
        {
            if (tool.ValueKind != JsonValueKind.Object || !tool.TryGetProperty("function", out var function) || function.ValueKind != JsonValueKind.Object) continue;
            if (!function.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String) continue;
            var parameters = new List<(string, string)>();
            if (function.TryGetProperty("parameters", out var schema) && schema.ValueKind == JsonValueKind.Object
                && schema.TryGetProperty("properties", out var properties) && properties.ValueKind == JsonValueKind.Object)
                foreach (var property in properties.EnumerateObject())
                    parameters.Add((property.Name, property.Value.ValueKind == JsonValueKind.Object && property.Value.TryGetProperty("type", out var type)
                        && type.ValueKind == JsonValueKind.String ? type.GetString()! : ""));
            schemas.Add(name.GetString()!, parameters);
        }
        return schemas;
    }

    /// <summary>The parameter's declared type, or null when the tool or the parameter is unknown.</summary>
    public string? TypeOf(string tool, string parameter) =>
        _types.TryGetValue(tool, out var parameters) && parameters.TryGetValue(parameter, out var type) ? type : null;

    /// <summary>The tool's only parameter, when it declares exactly one.</summary>
    public string? SoleParameter(string tool) =>
        _types.TryGetValue(tool, out var parameters) && parameters.Count == 1 ? parameters.Keys.First() : null;
}
