using GlmSharp.Models;
using GlmSharp.Server;
using GlmSharp.Serving;
using GlmSharp.Vision;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace GlmSharp.Tests.Server;

/// <summary>`glm serve`'s application on a free loopback port, for one test.</summary>
internal sealed class RunningServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    public Uri BaseAddress { get; }

    private RunningServer(WebApplication app, Uri baseAddress)
    {
        _app = app;
        BaseAddress = baseAddress;
    }

    public static async Task<RunningServer> Start(LoadedModel model, ITextGenerationService engine, string? apiKey = null,
        ImageEncoder? images = null, string? mediaFolder = null)
    {
        var app = GlmServer.Create(model, engine, new ServerOptions { Port = 0, ApiKey = apiKey, ModelName = "glm-tiny-chat", MediaFolder = mediaFolder }, images);
        await app.StartAsync();
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new RunningServer(app, new Uri(address));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
