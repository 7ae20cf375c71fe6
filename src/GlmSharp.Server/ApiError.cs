namespace GlmSharp.Server;

/// <summary>
/// A request the server refuses, with the HTTP status and OpenAI's error body fields: <paramref name="Type"/> as OpenAI
/// and llama-server name them (invalid_request_error, exceed_context_size_error, …), the offending field in
/// <paramref name="Param"/>.
/// </summary>
public sealed class ApiError(int status, string type, string message, string? param = null) : Exception(message)
{
    public int Status { get; } = status;
    public string Type { get; } = type;
    public string? Param { get; } = param;

    public static ApiError Invalid(string message, string? param = null) => new(400, "invalid_request_error", message, param);
}
