using System.Text.Json;
using GlmSharp.Errors;

namespace GlmSharp.Formats;

/// <summary>
/// The one way files' JSON is parsed. Besides the syntax, every string value and key is decoded once here: JSON allows
/// escapes of unpaired surrogates, and the reader passes invalid UTF-8 inside strings, but neither becomes a .NET
/// string, so a later read (or an error message quoting it) would throw outside our error types. After this,
/// any string of the document can be read and quoted.
/// </summary>
public static class JsonText
{
    private static readonly JsonDocumentOptions Lenient = new() { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip };

    /// <summary>A JSON document whose root is an object, from UTF-8 bytes.</summary>
    public static JsonDocument ParseObject(ReadOnlyMemory<byte> utf8, string origin) => Checked(() => JsonDocument.Parse(utf8, Lenient), origin);

    public static JsonDocument ParseObject(string json, string origin) => Checked(() => JsonDocument.Parse(json, Lenient), origin);

    /// <summary>A JSON document of any root kind (one line of a JSON Lines file).</summary>
    public static JsonDocument ParseAny(string json, string origin) => Checked(() => JsonDocument.Parse(json, Lenient), origin, requireObject: false);

    private static JsonDocument Checked(Func<JsonDocument> parse, string origin, bool requireObject = true)
    {
        JsonDocument document;
        try
        {
            document = parse();
        }
        catch (JsonException e)
        {
            throw new ModelFormatException($"{origin}: not valid JSON ({e.Message})", e);
        }
        try
        {
            if (requireObject && document.RootElement.ValueKind != JsonValueKind.Object)
                throw new ModelFormatException($"{origin}: expected a JSON object, found {document.RootElement.ValueKind}");
            RequireValidText(document.RootElement, origin);
            return document;
        }
        catch
        {
            document.Dispose();
            throw;
        }
    }

    /// <summary>Decodes every string and key of <paramref name="root"/> once (for JSON parsed elsewhere, such as an HTTP body).</summary>
    public static void RequireValidText(JsonElement root, string origin) => CheckText(root, origin, "");

    private static void CheckText(JsonElement element, string origin, string path)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.String:
                Decode(() => element.GetString(), origin, path);
                break;
            case JsonValueKind.Array:
                int index = 0;
                foreach (var item in element.EnumerateArray()) CheckText(item, origin, $"{path}[{index++}]");
                break;
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    string name = Decode(() => property.Name, origin, path.Length == 0 ? "a key" : $"a key of '{path}'");
                    CheckText(property.Value, origin, path.Length == 0 ? name : $"{path}.{name}");
                }
                break;
        }
    }

    private static string Decode(Func<string?> read, string origin, string where)
    {
        try
        {
            return read() ?? "";
        }
        catch (InvalidOperationException)
        {
            throw new ModelFormatException($"{origin}: {(where.Length == 0 ? "the document" : where.StartsWith("a key", StringComparison.Ordinal) ? where : $"field '{where}'")} holds text that is not valid Unicode (invalid UTF-8 or an unpaired surrogate escape)");
        }
    }
}
