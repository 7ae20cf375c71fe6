using System.Diagnostics.Metrics;
using GlmSharp.Serving;

namespace GlmSharp.Server;

/// <summary>
/// What <c>GET /metrics</c> reports (Prometheus text, through OpenTelemetry's exporter): requests by outcome, prompt and
/// completion tokens, time to first token and per output token, and the engine's queue, batch and KV cache use.
/// </summary>
internal sealed class ServerMetrics : IDisposable
{
    private static int _instances;

    /// <summary>
    /// "GlmSharp.Server", numbered per server in the process: each server's /metrics reports its own requests, not those
    /// of another server the same process runs (tests start many).
    /// </summary>
    public string MeterName { get; } = $"GlmSharp.Server.{Interlocked.Increment(ref _instances)}";

    private readonly Meter _meter;
    private readonly Counter<long> _requests, _promptTokens, _completionTokens;
    private readonly Histogram<double> _timeToFirstToken, _timePerOutputToken;

    public ServerMetrics(ITextGenerationService engine)
    {
        _meter = new Meter(MeterName);
        _requests = _meter.CreateCounter<long>("glm_requests", description: "Requests answered, by endpoint and outcome");
        _promptTokens = _meter.CreateCounter<long>("glm_prompt_tokens", description: "Prompt tokens of answered requests");
        _completionTokens = _meter.CreateCounter<long>("glm_completion_tokens", description: "Tokens generated");
        _timeToFirstToken = _meter.CreateHistogram<double>("glm_time_to_first_token", "s", "From the request to its first token");
        _timePerOutputToken = _meter.CreateHistogram<double>("glm_time_per_output_token", "s", "Between tokens after the first");
        _meter.CreateObservableGauge("glm_queue_length", () => engine.Waiting, description: "Requests waiting for a place in the batch");
        _meter.CreateObservableGauge("glm_batch_size", () => engine.Running, description: "Requests being decoded");
        _meter.CreateObservableGauge("glm_kv_cache_used_ratio", () => engine.CacheUse.UsedShare, description: "Share of the KV cache running requests hold");
        _meter.CreateObservableGauge("glm_kv_cache_prefix_ratio", () => engine.CacheUse.PrefixShare, description: "Share of the KV cache kept for prefix reuse only");
    }

    public void Request(string endpoint, string outcome) =>
        _requests.Add(1, new KeyValuePair<string, object?>("endpoint", endpoint), new KeyValuePair<string, object?>("outcome", outcome));

    /// <summary>One finished generation: its token counts and timings.</summary>
    public void Generation(int promptTokens, int completionTokens, TimeSpan firstToken, TimeSpan total)
    {
        _promptTokens.Add(promptTokens);
        _completionTokens.Add(completionTokens);
        if (completionTokens == 0) return;
        _timeToFirstToken.Record(firstToken.TotalSeconds);
        if (completionTokens > 1) _timePerOutputToken.Record((total - firstToken).TotalSeconds / (completionTokens - 1));
    }

    public void Dispose() => _meter.Dispose();
}
