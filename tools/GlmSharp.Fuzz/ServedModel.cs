using System.Net.Http.Headers;
using System.Text.Json;
using GlmSharp.Models;
using GlmSharp.Server;
using GlmSharp.Serving;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace GlmSharp.Fuzz;

/// <summary>
/// <c>glm serve</c>'s application over the seed model on a loopback port, for the request-body targets: each mutant is
/// posted as a client would post it. A refusal must be a 4xx with an OpenAI error body; a 500, a stream cut short or
/// an error body that is not one is a finding.
/// </summary>
internal sealed class ServedModel : IDisposable
{
    private readonly LoadedModel _model;
    private readonly ContinuousBatcher _batcher;
    private readonly WebApplication _app;
    private readonly HttpClient _client;
    private readonly UnhandledErrors _errors = new();

    public ServedModel(string modelPath)
    {
        _model = ModelLoader.Load(modelPath, Pipeline.Backend);
        _batcher = new ContinuousBatcher(_model, new BatcherOptions { MaxSequences = 8, ContextLength = 512, CachePositions = 8 * 512 });
        _app = GlmServer.Create(_model, _batcher, new ServerOptions { Port = 0, ModelName = "fuzz" });
        // Kestrel reports what escapes a response that has started (a stream cut short) only through its log.
        _app.Services.GetRequiredService<ILoggerFactory>().AddProvider(_errors);
        _app.StartAsync().GetAwaiter().GetResult();
        string address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        _client = new HttpClient { BaseAddress = new Uri(address), Timeout = Timeout.InfiniteTimeSpan };
    }

    /// <summary>"ok", "typed" or "untyped" and what went wrong, for input <paramref name="index"/>.</summary>
    public string Outcome(string endpoint, byte[] body, long index)
    {
        _errors.Last = null;
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        int status;
        string text;
        try
        {
            using var response = _client.PostAsync(endpoint, content).GetAwaiter().GetResult();
            status = (int)response.StatusCode;
            text = response.Content.ReadAsStringAsync().GetAwaiter().GetResult();
        }
        catch (HttpRequestException e)
        {
            return $"untyped {index} {Cut(endpoint, e)}";
        }
        if (status == 200) return Complete(text) ? $"ok {index}" : $"untyped {index} {Cut(endpoint, null)}";
        if (status is >= 400 and < 500 && IsErrorBody(text)) return $"typed {index}";
        return $"untyped {index} HTTP {status} from {endpoint}: {Message(text)}";
    }

    /// <summary>A whole response: a stream ends with [DONE], a body is one JSON object.</summary>
    private static bool Complete(string text)
    {
        if (text.StartsWith("data: ", StringComparison.Ordinal)) return text.EndsWith("data: [DONE]\n\n", StringComparison.Ordinal);
        try
        {
            using var document = JsonDocument.Parse(text);
            return document.RootElement.ValueKind == JsonValueKind.Object;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static bool IsErrorBody(string text)
    {
        try
        {
            using var document = JsonDocument.Parse(text);
            return document.RootElement.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object
                && error.TryGetProperty("message", out var message) && message.ValueKind == JsonValueKind.String;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static string Message(string text)
    {
        try
        {
            using var document = JsonDocument.Parse(text);
            return document.RootElement.GetProperty("error").GetProperty("message").GetString()!.ReplaceLineEndings(" ");
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return text.Length > 200 ? text[..200] : text;
        }
    }

    /// <summary>A response cut short: what the server logged as escaping it, else how the client saw it end.</summary>
    private string Cut(string endpoint, Exception? client)
    {
        Thread.Sleep(10);
        if (_errors.Last is { } server) return Finding.Signature(server);
        return client is null ? $"response from {endpoint} ended early" : $"response from {endpoint} failed: {client.Message}";
    }

    public void Dispose()
    {
        _client.Dispose();
        _app.StopAsync().GetAwaiter().GetResult();
        _app.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _batcher.Dispose();
        _model.Dispose();
    }

    /// <summary>The last exception the server logged at error level.</summary>
    private sealed class UnhandledErrors : ILoggerProvider, ILogger
    {
        public volatile Exception? Last;

        public ILogger CreateLogger(string categoryName) => this;
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Error;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel >= LogLevel.Error && exception is not null) Last = exception;
        }

        public void Dispose() { }
    }
}
