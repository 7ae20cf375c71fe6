using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using GlmSharp.Models;

namespace GlmSharp.Tests.Server;

/// <summary>
/// Request bodies the fuzzer (tools/GlmSharp.Fuzz, targets http-*) found answered with 500: each is now a 400 whose
/// error names what is wrong, and nothing reaches the engine. One reproducer per root cause: text that is not Unicode
/// inside a string or a key (JSON escapes and bytes the parser lets through), a field of the wrong JSON kind where the
/// server read a string or an object, and sampling values the range check let through but the sampler refuses.
/// </summary>
public sealed class RequestFuzzFindingTests : IDisposable
{
    private static readonly string DefaultModel = Path.Combine(AppContext.BaseDirectory, "models", "glm-tiny-chat");
    private readonly LoadedModel _model = ModelLoader.Load(DefaultModel);

    public void Dispose() => _model.Dispose();

    private const string Hi = """{"role": "user", "content": "hi"}""";

    [Theory]
    [InlineData("/v1/chat/completions", """{"messages": [{"role": "user", "content": "a\udfffb"}]}""", "messages[0].content")]
    [InlineData("/v1/chat/completions", """{"messages": [{"role": "user", "content": "\ud800A"}]}""", "messages[0].content")]
    [InlineData("/v1/chat/completions", """{"messages": [{"role": "user", "content": "hi"}], "x\ud800": 1}""", "a key")]
    [InlineData("/v1/completions", """{"prompt": "tail \ud800"}""", "prompt")]
    public async Task Text_That_Is_Not_Unicode_Is_400_Naming_Where(string endpoint, string body, string where)
    {
        var (status, message, _) = await Post(endpoint, Encoding.UTF8.GetBytes(body));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains(where, message);
        Assert.Contains("not valid Unicode", message);
    }

    [Fact]
    public async Task Bytes_That_Are_Not_Utf8_Inside_A_String_Are_400()
    {
        byte[] body = [.. Encoding.UTF8.GetBytes("""{"prompt": "ab"""), 0xED, 0xA0, 0x80, .. Encoding.UTF8.GetBytes("\"}")];
        var (status, message, _) = await Post("/v1/completions", body);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("not valid Unicode", message);
    }

    [Theory]
    [InlineData($$$"""{"messages": [{{{Hi}}}], "thinking": {"type": false}}""", "thinking")]
    [InlineData($$$"""{"messages": [{{{Hi}}}, {"role": "assistant", "content": "", "tool_calls": [5]}]}""", "messages[1].tool_calls")]
    [InlineData($$$"""{"messages": [{{{Hi}}}, {"role": "assistant", "content": "", "tool_calls": [{"function": "f"}]}]}""", "messages[1].tool_calls")]
    [InlineData("""{"messages": [{"role": "user", "content": [{"type": 3, "text": "x"}]}]}""", "messages[0].content")]
    [InlineData($$$"""{"messages": [{{{Hi}}}], "top_p": -0.0}""", "top_p")]
    [InlineData($$$"""{"messages": [{{{Hi}}}], "top_p": 0}""", "top_p")]
    [InlineData($$$"""{"messages": [{{{Hi}}}], "top_p": 1e-50}""", "top_p")]
    [InlineData($$$"""{"messages": [{{{Hi}}}], "min_p": 1}""", "min_p")]
    [InlineData($$$"""{"messages": [{{{Hi}}}], "stop": ""}""", "stop")]
    public async Task Fields_Of_The_Wrong_Kind_Or_Range_Are_400_Naming_Them(string body, string field)
    {
        var (status, _, param) = await Post("/v1/chat/completions", Encoding.UTF8.GetBytes(body));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(field, param);
    }

    [Fact]
    public async Task A_Tool_Parameter_Named_Twice_Keeps_Its_Last_Type()
    {
        const string body = """
            {"messages": [{"role": "user", "content": "hi"}],
             "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object",
               "properties": {"a": {"type": "string"}, "a": {"type": "integer"}}}}}]}
            """;
        using var engine = new ScriptedEngine("<tool_call>f\n<arg_key>a</arg_key>\n<arg_value>7</arg_value>\n</tool_call>");
        var (status, text) = await Send(engine, "/v1/chat/completions", Encoding.UTF8.GetBytes(body));
        Assert.Equal(HttpStatusCode.OK, status);
        using var reply = JsonDocument.Parse(text);
        string arguments = reply.RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("tool_calls")[0]
            .GetProperty("function").GetProperty("arguments").GetString()!;
        Assert.Equal("""{"a":7}""", arguments.Replace(" ", ""));
    }

    private async Task<(HttpStatusCode Status, string Message, string? Param)> Post(string endpoint, byte[] body)
    {
        using var engine = new ScriptedEngine("unused");
        var (status, text) = await Send(engine, endpoint, body);
        Assert.Empty(engine.Prompts);
        using var error = JsonDocument.Parse(text);
        var e = error.RootElement.GetProperty("error");
        var param = e.GetProperty("param");
        return (status, e.GetProperty("message").GetString()!, param.ValueKind == JsonValueKind.String ? param.GetString() : null);
    }

    private async Task<(HttpStatusCode Status, string Text)> Send(ScriptedEngine engine, string endpoint, byte[] body)
    {
        await using var server = await RunningServer.Start(_model, engine);
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        var response = await http.PostAsync(endpoint, content);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }
}
