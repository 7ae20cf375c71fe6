using System.Text.Json;
using GlmSharp.Inference;
using GlmSharp.Models;
using GlmSharp.Serving;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;

namespace GlmSharp.Server;

/// <summary>
/// The OpenAI-compatible HTTP server over one model: <c>POST /v1/chat/completions</c>, <c>POST /v1/completions</c>,
/// <c>GET /v1/models</c>, <c>GET /health</c>, <c>GET /metrics</c>, and a chat page at <c>/</c>. Requests share the model through <paramref name="engine"/> (continuous batching). Every refusal
/// is an OpenAI error body with a status that says why; no request can take the process down.
/// </summary>
public static class GlmServer
{
    /// <param name="images">The vision tower for <c>image_url</c> parts, or null for a model that takes no images.</param>
    public static WebApplication Create(LoadedModel model, ITextGenerationService engine, ServerOptions options, Vision.ImageEncoder? images = null)
    {
        var tokenizer = model.Tokenizer ?? throw new Errors.UnsupportedModelException($"{model.Path}: the model has no tokenizer, so it cannot serve chat");
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Limits.MaxRequestBodySize = options.MaxRequestBytes;
            kestrel.Listen(System.Net.IPAddress.Parse(options.Host), options.Port);
        });
        var metrics = new ServerMetrics(engine);
        builder.Services.AddSingleton(metrics);
        builder.Services.AddOpenTelemetry().WithMetrics(m => m.AddMeter(metrics.MeterName).AddPrometheusExporter());
        var app = builder.Build();
        var defaults = SamplingOptions.Defaults(model.Generation);
        var chat = new ChatCompletions(engine, tokenizer, model.ChatTemplate, defaults, options, metrics,
            new ChatImages(images, new ImageUrls(options.MediaFolder)), model.Path);
        var text = new TextCompletions(engine, tokenizer, defaults, options, metrics);

        app.Use(async (http, next) =>
        {
            try
            {
                if (options.ApiKey is { } key && http.Request.Path.StartsWithSegments("/v1") && http.Request.Headers.Authorization != $"Bearer {key}")
                    throw new ApiError(401, "invalid_api_key", "missing or wrong API key: send 'Authorization: Bearer KEY'");
                await next(http);
            }
            catch (ApiError e) when (!http.Response.HasStarted)
            {
                metrics.Request(http.Request.Path, e.Type);
                await WriteError(http, e);
            }
            catch (Errors.ContextLimitException e) when (!http.Response.HasStarted)
            {
                await WriteError(http, new ApiError(400, "exceed_context_size_error", e.Message));
            }
            catch (BadHttpRequestException e) when (!http.Response.HasStarted)
            {
                await WriteError(http, new ApiError(e.StatusCode, "invalid_request_error", e.Message));
            }
            catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
            {
            }
            catch (Exception e) when (!http.Response.HasStarted)
            {
                await WriteError(http, new ApiError(500, "server_error", e.Message));
            }
        });

        app.MapPrometheusScrapingEndpoint("/metrics");
        byte[] page = ChatPage();
        app.MapGet("/", () => Results.Bytes(page, "text/html; charset=utf-8"));
        app.MapGet("/health", () => Results.Json(new { status = "ok" }));
        app.MapGet("/v1/models", () => Results.Json(new
        {
            @object = "list",
            data = new[] { new { id = options.ModelName, @object = "model", created = 0, owned_by = "glmsharp" } },
        }));
        app.MapPost("/v1/chat/completions", async (HttpContext http) => await chat.Handle(http, await Admit(http)));
        app.MapPost("/v1/completions", async (HttpContext http) => await text.Handle(http, await Admit(http)));
        return app;

        // What both generating endpoints refuse before reading anything else: a full queue, another model's name.
        async Task<JsonElement> Admit(HttpContext http)
        {
            if (engine.Waiting >= options.MaxQueuedRequests)
                throw new ApiError(503, "server_overloaded", $"{engine.Waiting} requests are already waiting (the limit is {options.MaxQueuedRequests}); retry shortly");
            var body = await ReadJson(http);
            if (body.ValueKind == JsonValueKind.Object && body.TryGetProperty("model", out var model) && model.ValueKind == JsonValueKind.String
                && model.GetString() is { Length: > 0 } name && name != options.ModelName)
                throw new ApiError(404, "model_not_found", $"the model '{name}' does not exist; this server has '{options.ModelName}'", "model");
            return body;
        }
    }

    /// <summary>The chat page: one HTML file with its script and style inline, served as it is (no build step, no CDN).</summary>
    private static byte[] ChatPage()
    {
        using var stream = typeof(GlmServer).Assembly.GetManifestResourceStream("GlmSharp.Server.index.html")!;
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    private static async Task<JsonElement> ReadJson(HttpContext http)
    {
        try
        {
            using var document = await JsonDocument.ParseAsync(http.Request.Body, cancellationToken: http.RequestAborted);
            Formats.JsonText.RequireValidText(document.RootElement, "the request body");
            return document.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw ApiError.Invalid($"the request body is not valid JSON: {e.Message}");
        }
        catch (Errors.ModelFormatException e)
        {
            throw ApiError.Invalid(e.Message);
        }
    }

    private static Task WriteError(HttpContext http, ApiError e)
    {
        http.Response.StatusCode = e.Status;
        if (e.Status is 429 or 503) http.Response.Headers.RetryAfter = "1";
        return http.Response.WriteAsJsonAsync(new { error = new { message = e.Message, type = e.Type, param = e.Param, code = e.Type } });
    }
}
