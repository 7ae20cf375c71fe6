namespace GlmSharp.Planner.Cost;

/// <summary>
/// Alpha-beta costs of collectives over n chips, each with <c>bandwidth</c> bytes/s per direction and a per-message
/// latency <c>alpha</c> seconds. Ring algorithms for the reductions (the bandwidth-optimal ones NCCL/HCCL use at these sizes). Expert all-to-alls
/// are priced by <see cref="ExpertExchange"/>.
/// </summary>
public static class Collectives
{
    /// <summary>Ring all-reduce of <paramref name="bytes"/> per chip: 2(n−1) steps, each moving bytes/n.</summary>
    public static double AllReduce(int n, double bytes, double bandwidth, double alpha) =>
        n <= 1 ? 0 : 2 * (n - 1) * alpha + 2.0 * (n - 1) / n * bytes / bandwidth;

    /// <summary>Ring all-gather producing <paramref name="totalBytes"/> on every chip (each contributes totalBytes/n).</summary>
    public static double AllGather(int n, double totalBytes, double bandwidth, double alpha) =>
        n <= 1 ? 0 : (n - 1) * alpha + (double)(n - 1) / n * totalBytes / bandwidth;

    /// <summary>Ring reduce-scatter of <paramref name="totalBytes"/> per chip into n shards: the mirror of all-gather.</summary>
    public static double ReduceScatter(int n, double totalBytes, double bandwidth, double alpha) => AllGather(n, totalBytes, bandwidth, alpha);

    /// <summary>Send <paramref name="bytes"/> to one peer (pipeline stage boundary, KV transfer).</summary>
    public static double PointToPoint(double bytes, double bandwidth, double alpha) => alpha + bytes / bandwidth;

    /// <summary>Hierarchical all-reduce across domains: reduce-scatter inside, all-reduce the shard outside, all-gather inside.</summary>
    public static double AllReduce(int n, double bytes, int domain, Level up, Level outLevel)
    {
        if (n <= domain) return AllReduce(n, bytes, up.Bandwidth, up.Alpha);
        int inner = domain, outer = (n + domain - 1) / domain;
        return ReduceScatter(inner, bytes, up.Bandwidth, up.Alpha)
             + AllReduce(outer, bytes / inner, outLevel.Bandwidth, outLevel.Alpha)
             + AllGather(inner, bytes, up.Bandwidth, up.Alpha);
    }
}

/// <summary>One network level: bandwidth per chip per direction (bytes/s) and per-message latency (s).</summary>
public readonly record struct Level(double Bandwidth, double Alpha);
