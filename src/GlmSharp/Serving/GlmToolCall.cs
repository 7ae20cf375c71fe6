using System.Buffers;
using System.Text;
using System.Text.Json;

namespace GlmSharp.Serving;

/// <summary>A parsed tool call: the function's name and its arguments as a JSON object.</summary>
public sealed record ParsedToolCall(string Name, string ArgumentsJson);

/// <summary>
/// GLM-4.5+'s XML tool call, the text between <c>&lt;tool_call&gt;</c> and <c>&lt;/tool_call&gt;</c>:
/// <c>name\n&lt;arg_key&gt;k&lt;/arg_key&gt;\n&lt;arg_value&gt;v&lt;/arg_value&gt;…</c>, or just the name for a call without
/// arguments. Models also write it slightly wrong, and each slip is read for what it means rather than dropped: a value
/// without its tags runs to the next key; a key without its closing tag ends at the next tag; a value without a key
/// belongs to the tool's only parameter. The name is the text before the first tag, so no tag can leak into it.
/// Values are typed by the tool's schema: a string parameter stays the text as written, others are parsed as JSON when
/// they are valid JSON.
/// </summary>
public static class GlmToolCall
{
    private const string KeyOpen = "<arg_key>", KeyClose = "</arg_key>", ValueOpen = "<arg_value>", ValueClose = "</arg_value>";

    /// <summary>The call, or null when the body has no name or a value whose key cannot be told.</summary>
    public static ParsedToolCall? Parse(string body, ToolSchemas schemas)
    {
        int firstTag = body.IndexOf('<');
        string name = (firstTag < 0 ? body : body[..firstTag]).Trim();
        if (name.Length == 0 || name.Any(char.IsWhiteSpace)) return null;
        var arguments = new List<(string Key, string Value)>();
        int at = firstTag < 0 ? body.Length : firstTag;
        while (at < body.Length)
        {
            string? key = null;
            if (At(body, at, KeyOpen))
            {
                int start = at + KeyOpen.Length;
                int end = NextTag(body, start);
                key = body[start..end].Trim();
                at = At(body, end, KeyClose) ? end + KeyClose.Length : end;
                at = SkipWhitespace(body, at);
            }
            string value;
            if (At(body, at, ValueOpen))
            {
                int start = at + ValueOpen.Length;
                int close = body.IndexOf(ValueClose, start, StringComparison.Ordinal);
                int nextKey = body.IndexOf(KeyOpen, start, StringComparison.Ordinal);
                int end = close >= 0 && (nextKey < 0 || close < nextKey) ? close : nextKey >= 0 ? nextKey : body.Length;
                value = body[start..end];
                at = end == close ? close + ValueClose.Length : end;
            }
            else if (key is not null)
            {
                int nextKey = body.IndexOf(KeyOpen, at, StringComparison.Ordinal);
                int end = nextKey >= 0 ? nextKey : body.Length;
                value = body[at..end].Replace(ValueClose, "", StringComparison.Ordinal).Trim();
                at = end;
            }
            else
            {
                int next = NextTag(body, at + 1);
                if (body[at..next].Trim().Length > 0 && !At(body, at, "<")) return null;
                at = next;
                continue;
            }
            key ??= schemas.SoleParameter(name);
            if (key is null || key.Length == 0) return null;
            arguments.RemoveAll(a => a.Key == key);
            arguments.Add((key, value));
            at = SkipWhitespace(body, at);
        }
        return new ParsedToolCall(name, ArgumentsJson(name, arguments, schemas));
    }

    private static bool At(string text, int index, string tag) => string.CompareOrdinal(text, index, tag, 0, tag.Length) == 0;

    private static int NextTag(string text, int from)
    {
        int next = text.IndexOf('<', Math.Min(from, text.Length));
        return next < 0 ? text.Length : next;
    }

    private static int SkipWhitespace(string text, int at)
    {
        while (at < text.Length && char.IsWhiteSpace(text[at])) at++;
        return at;
    }

    private static string ArgumentsJson(string tool, List<(string Key, string Value)> arguments, ToolSchemas schemas)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            foreach (var (key, value) in arguments)
            {
                json.WritePropertyName(key);
                if (schemas.TypeOf(tool, key) == "string" || !TryWriteJson(json, value)) json.WriteStringValue(value);
            }
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static bool TryWriteJson(Utf8JsonWriter json, string value)
    {
        try
        {
            using var parsed = JsonDocument.Parse(value.Trim());
            parsed.RootElement.WriteTo(json);
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
