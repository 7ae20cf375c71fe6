using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace GlmSharp.Tokenizers.Chat;

/// <summary>
/// JSON as the chat templates' <c>tojson(ensure_ascii=False)</c> writes it (Python's json.dumps): ", " between items,
/// ": " after keys, non-ASCII characters as they are. Tool definitions and non-string tool arguments go into prompts
/// this way, so the model sees the text it was trained on.
/// </summary>
public static class TemplateJson
{
    public static string Serialize(JsonElement value)
    {
        var sb = new StringBuilder();
        Write(sb, value);
        return sb.ToString();
    }

    private static void Write(StringBuilder sb, JsonElement value)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Object:
                sb.Append('{');
                bool first = true;
                foreach (var property in value.EnumerateObject())
                {
                    if (!first) sb.Append(", ");
                    first = false;
                    WriteString(sb, property.Name);
                    sb.Append(": ");
                    Write(sb, property.Value);
                }
                sb.Append('}');
                break;
            case JsonValueKind.Array:
                sb.Append('[');
                int index = 0;
                foreach (var item in value.EnumerateArray())
                {
                    if (index++ > 0) sb.Append(", ");
                    Write(sb, item);
                }
                sb.Append(']');
                break;
            case JsonValueKind.String:
                WriteString(sb, value.GetString()!);
                break;
            default:
                sb.Append(value.GetRawText());
                break;
        }
    }

    private static readonly JavaScriptEncoder Unescaped = JavaScriptEncoder.UnsafeRelaxedJsonEscaping;

    private static void WriteString(StringBuilder sb, string text) => sb.Append(JsonSerializer.Serialize(text, new JsonSerializerOptions { Encoder = Unescaped }));
}
