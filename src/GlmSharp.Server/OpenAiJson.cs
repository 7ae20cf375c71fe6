using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace GlmSharp.Server;

/// <summary>What every OpenAI response body and stream shares: compact JSON with text left readable, usage, and server-sent events.</summary>
internal static class OpenAiJson
{
    private static readonly JsonWriterOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>One JSON object, its members written by <paramref name="members"/>.</summary>
    public static byte[] Object(Action<Utf8JsonWriter> members)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer, Options))
        {
            w.WriteStartObject();
            members(w);
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <param name="cachedPrompt">Prompt tokens whose KV came from the prefix cache.</param>
    public static void Usage(Utf8JsonWriter w, int prompt, int completion, int cachedPrompt)
    {
        w.WriteStartObject("usage");
        w.WriteNumber("prompt_tokens", prompt);
        w.WriteNumber("completion_tokens", completion);
        w.WriteNumber("total_tokens", prompt + completion);
        w.WriteStartObject("prompt_tokens_details");
        w.WriteNumber("cached_tokens", cachedPrompt);
        w.WriteEndObject();
        w.WriteEndObject();
    }

    /// <summary>Starts a stream of server-sent events.</summary>
    public static void BeginEvents(HttpContext http)
    {
        http.Response.ContentType = "text/event-stream";
        http.Response.Headers.CacheControl = "no-cache";
    }

    /// <summary>One <c>data:</c> event, flushed so the client sees it now.</summary>
    public static async Task Event(HttpContext http, byte[] json)
    {
        await http.Response.WriteAsync("data: ", http.RequestAborted);
        await http.Response.Body.WriteAsync(json, http.RequestAborted);
        await http.Response.WriteAsync("\n\n", http.RequestAborted);
        await http.Response.Body.FlushAsync(http.RequestAborted);
    }

    public static Task Done(HttpContext http) => http.Response.WriteAsync("data: [DONE]\n\n", http.RequestAborted);
}
