namespace GlmSharp.Server;

/// <summary>Where and how <c>glm serve</c> listens.</summary>
public sealed record ServerOptions
{
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>0 picks a free port (tests).</summary>
    public int Port { get; init; } = 8080;

    /// <summary>When set, every /v1 request must carry <c>Authorization: Bearer KEY</c>.</summary>
    public string? ApiKey { get; init; }

    /// <summary>The name clients use for the model (GET /v1/models, the "model" field).</summary>
    public string ModelName { get; init; } = "glm";

    public long MaxRequestBytes { get; init; } = 4 << 20;

    /// <summary>The folder image_url file paths may name (symbolic links followed, none may lead out); null refuses every path.</summary>
    public string? MediaFolder { get; init; }

    /// <summary>Requests the engine may have waiting before new ones are refused with 503 and Retry-After.</summary>
    public int MaxQueuedRequests { get; init; } = 512;
}
