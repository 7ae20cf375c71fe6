namespace GlmSharp.Planner.Cost;

/// <summary>How expert dispatch/combine moves tokens (DeepEP's two kernel families, which other stacks mirror).</summary>
public enum ExchangeMode
{
    /// <summary>Throughput mode (prefill): a token crosses scale-out once per remote domain it needs, then fans out over scale-up.</summary>
    Normal,

    /// <summary>Latency mode (decode): every (token, expert) pair is its own message, straight to the chip that holds the expert.</summary>
    LowLatency,
}

/// <summary>
/// Two-level cost of one expert dispatch or combine over <c>ep</c> chips in scale-up domains of <c>domain</c> chips. The
/// experts a token picks are taken as spread evenly over the chips; the scale-up and scale-out legs run in parallel and
/// the busiest chip (load <c>imbalance</c> × the mean) sets the time. Constants are DeepEP's published H800/B200 figures:
/// normal kernels reach about the full link rate, low-latency ones about 85% of the NIC with a ~25 µs fixed cost per call
/// (intercept of its 128-token table over EP 8…256), and its NVLink kernels about 80% of NVLink 5.
/// </summary>
public static class ExpertExchange
{
    public const double ScaleUpEfficiency = 0.8;
    public const double NormalScaleOutEfficiency = 1.0;
    public const double LowLatencyScaleOutEfficiency = 0.85;
    public const double CallLatencySeconds = 25e-6;

    /// <summary>
    /// Seconds to move <paramref name="tokens"/> tokens per chip, each of <paramref name="bytesPerToken"/> bytes, to its
    /// <paramref name="topK"/> experts (dispatch), or the experts' outputs back (combine: same traffic, reversed).
    /// </summary>
    public static double Time(ExchangeMode mode, double tokens, int topK, double bytesPerToken, int ep, int domain, Level up, Level outLevel, double imbalance = 1)
    {
        if (ep <= 1 || tokens <= 0) return 0;
        var (near, far) = mode == ExchangeMode.LowLatency ? LowLatencyBytes(tokens, topK, bytesPerToken, ep, domain) : NormalBytes(tokens, topK, bytesPerToken, ep, domain);
        double t = up.Alpha + near * imbalance / (up.Bandwidth * ScaleUpEfficiency);
        double outEff = mode == ExchangeMode.LowLatency ? LowLatencyScaleOutEfficiency : NormalScaleOutEfficiency;
        if (far > 0) t = Math.Max(t, outLevel.Alpha + far * imbalance / (outLevel.Bandwidth * outEff));
        return CallLatencySeconds + t;
    }

    /// <summary>Per chip: pairs for chips of its own domain go over scale-up, pairs for other domains over scale-out, its own stay.</summary>
    public static (double Near, double Far) LowLatencyBytes(double tokens, int topK, double bytesPerToken, int ep, int domain)
    {
        int d = Math.Min(domain, ep);
        double pairs = tokens * topK * bytesPerToken;
        return (pairs * (d - 1) / ep, pairs * (ep - d) / ep);
    }

    /// <summary>
    /// Per chip: each token is sent once to every other domain holding one of its experts (to the peer chip there), and
    /// each distinct destination chip that is not that peer (or the sender) gets a copy over scale-up.
    /// </summary>
    public static (double Near, double Far) NormalBytes(double tokens, int topK, double bytesPerToken, int ep, int domain)
    {
        int d = Math.Min(domain, ep);
        int domains = (ep + d - 1) / d;
        double domainHit = 1 - Math.Pow(1 - (double)d / ep, topK);
        double chipsHit = ep * (1 - Math.Pow(1 - 1.0 / ep, topK));
        double far = tokens * bytesPerToken * (domains - 1) * domainHit;
        double near = tokens * bytesPerToken * chipsHit * (d - 1) / d;
        return (near, far);
    }
}
