using GlmSharp.Planner.Catalog;
using GlmSharp.Planner.Cost;

namespace GlmSharp.Planner.Serving;

/// <summary>
/// Where requests run: one aggregated pool (chunked prefill mixed with decode), or a prefill pool feeding a decode pool
/// with the KV cache sent between them.
/// </summary>
public sealed record ServingLayout(Deployment Decode, Deployment? Prefill = null)
{
    public int ChunkTokensPerChip { get; init; } = 8192;
    public int MaxBatchPerChip { get; init; } = 1024;
    public int Chips => Decode.Parallel.Chips + (Prefill?.Parallel.Chips ?? 0);
}

/// <summary>
/// Discrete-event simulation of continuous batching. Events are step ends, KV-transfer arrivals and request arrivals;
/// each pool starts its next step as soon as it is idle and has work. Every request completes exactly once and no pool
/// reserves more KV than it holds (both are checked and reported).
/// </summary>
public static class ServingSimulator
{
    public static SimulationResult Run(ServingLayout layout, EfficiencyTable efficiency, Workload w, double acceptance, Slo? slo = null)
    {
        var decodeCost = new StepCostModel(layout.Decode, efficiency.For(layout.Decode.Chip.Family, layout.Decode.Precision));
        var decode = new ServingPool(decodeCost, layout.Prefill is null ? PoolRole.Mixed : PoolRole.DecodeOnly, acceptance, layout.ChunkTokensPerChip, layout.MaxBatchPerChip);
        ServingPool? prefill = layout.Prefill is { } p
            ? new ServingPool(new StepCostModel(p, efficiency.For(p.Chip.Family, p.Precision)), PoolRole.PrefillOnly, acceptance, layout.ChunkTokensPerChip, layout.MaxBatchPerChip)
            : null;
        var entry = prefill ?? decode;
        var rng = new Random(w.Seed);
        int total = w.Arrivals == ArrivalKind.ClosedLoop ? Math.Max(w.Requests, w.Concurrency * 4) : w.Requests;
        var all = new List<SimRequest>(total);
        var transfers = new PriorityQueue<SimRequest, double>();
        double kvBytesPerToken = layout.Decode.Model.KvBytesPerToken(layout.Decode.KvBytes);
        double transferBandwidth = (layout.Prefill is { } pd && layout.Chips <= pd.System.ScaleUpDomain ? pd.Chip.ScaleUpGbps.Value : layout.Decode.Chip.ScaleOutGbps?.Value ?? 50) * 1e9;
        double transferAlpha = layout.Decode.System.ScaleOutLatencyUs.Value * 1e-6;
        double now = 0, nextArrival = 0, inSystemArea = 0, lastEvent = 0;
        int submitted = 0, completed = 0, inSystem = 0;
        var times = new List<double> { 0 };
        var cumIn = new List<double> { 0 };
        var cumOut = new List<double> { 0 };

        SimRequest NewRequest(double at) => new(submitted++, w.Input.Sample(rng), Math.Max(1, w.Output.Sample(rng)), at);

        void Submit(double at)
        {
            var r = NewRequest(at);
            all.Add(r);
            inSystem++;
            entry.Enqueue(r);
        }

        void OnComplete(SimRequest r)
        {
            r.CompletedCount++;
            completed++;
            inSystem--;
            if (w.Arrivals == ArrivalKind.ClosedLoop && submitted < total) Submit(r.Finish);
        }

        void OnPrefillDone(SimRequest r)
        {
            double bytes = r.Input * kvBytesPerToken;
            double arrive = now + Collectives.PointToPoint(bytes, transferBandwidth, transferAlpha);
            transfers.Enqueue(r, arrive);
        }

        switch (w.Arrivals)
        {
            case ArrivalKind.Offline:
                for (int i = 0; i < total; i++) Submit(0);
                nextArrival = double.PositiveInfinity;
                break;
            case ArrivalKind.ClosedLoop:
                if (w.Concurrency < 1) throw new PlanRequestException("--concurrency must be at least 1");
                for (int i = 0; i < w.Concurrency; i++) Submit(0);
                nextArrival = double.PositiveInfinity;
                break;
            default:
                if (w.RatePerSecond <= 0) throw new PlanRequestException("--rate must be positive");
                nextArrival = 0;
                break;
        }

        var pools = prefill is null ? new[] { decode } : new[] { prefill, decode };
        while (completed < total)
        {
            foreach (var pool in pools)
                if (!pool.Busy && pool.HasWork) pool.TryStart(now);
            double nextStep = pools.Min(pl => pl.StepEnd);
            double nextTransfer = transfers.TryPeek(out _, out double t) ? t : double.PositiveInfinity;
            double next = Math.Min(nextStep, Math.Min(nextTransfer, nextArrival));
            if (double.IsPositiveInfinity(next))
                throw new InvalidOperationException($"simulation stalled with {total - completed} requests unfinished");
            inSystemArea += inSystem * (next - lastEvent);
            lastEvent = now = next;
            foreach (var pool in pools)
            {
                if (pool.StepEnd != now) continue;
                var (pin, gout) = pool.Finish(OnPrefillDone, OnComplete);
                times.Add(now);
                cumIn.Add(cumIn[^1] + pin);
                cumOut.Add(cumOut[^1] + gout);
            }
            while (transfers.TryPeek(out var r, out double at) && at <= now)
            {
                transfers.Dequeue();
                r.FirstToken = at;
                r.Generated = 1;
                decode.Enqueue(r);
            }
            if (nextArrival <= now && submitted < total)
            {
                Submit(now);
                nextArrival = submitted < total ? now - Math.Log(1 - rng.NextDouble()) / w.RatePerSecond : double.PositiveInfinity;
            }
        }
        return Summarise(layout, w, slo, all, times, cumIn, cumOut, inSystemArea, now, Math.Max(decode.PeakKvFraction, prefill?.PeakKvFraction ?? 0));
    }

    private static SimulationResult Summarise(ServingLayout layout, Workload w, Slo? slo, List<SimRequest> all, List<double> times,
        List<double> cumIn, List<double> cumOut, double inSystemArea, double end, double peakKv)
    {
        // Offline benchmarks report tokens over the makespan; open and closed loops are measured between the 10% and 90%
        // completion marks, away from the ramp-up and the drain.
        var byFinish = all.OrderBy(r => r.Finish).ToList();
        double t0 = 0, t1 = end;
        var measured = all;
        if (w.Arrivals != ArrivalKind.Offline && all.Count >= 10)
        {
            t0 = byFinish[all.Count / 10].Finish;
            t1 = byFinish[all.Count * 9 / 10].Finish;
            measured = all.Where(r => r.Arrival >= t0 || r.Finish > t0).Where(r => r.Finish <= t1).ToList();
        }
        double span = Math.Max(t1 - t0, 1e-12);
        double tokensIn = Interpolate(times, cumIn, t1) - Interpolate(times, cumIn, t0);
        double tokensOut = Interpolate(times, cumOut, t1) - Interpolate(times, cumOut, t0);
        int chips = layout.Chips;
        var ttft = measured.Select(r => (r.FirstToken - r.Arrival) * 1e3).ToList();
        var tpot = measured.Where(r => r.Output > 1).Select(r => (r.Finish - r.FirstToken) / (r.Output - 1) * 1e3).ToList();
        int good = measured.Count(r => (slo?.TtftMs is not { } a || (r.FirstToken - r.Arrival) * 1e3 <= a)
            && (slo?.TpotMs is not { } b || r.Output <= 1 || (r.Finish - r.FirstToken) / (r.Output - 1) * 1e3 <= b));
        return new SimulationResult
        {
            InputTokensPerSecondPerChip = tokensIn / span / chips,
            OutputTokensPerSecondPerChip = tokensOut / span / chips,
            SystemTokensPerSecond = (tokensIn + tokensOut) / span,
            TtftP50Ms = Percentile.Of(ttft, 0.5),
            TtftP99Ms = Percentile.Of(ttft, 0.99),
            TpotP50Ms = Percentile.Of(tpot, 0.5),
            TpotP99Ms = Percentile.Of(tpot, 0.99),
            Completed = all.Count(r => r.CompletedCount > 0),
            Submitted = all.Count,
            GoodputRequestsPerSecond = good / span,
            PeakKvFraction = peakKv,
            MeanInSystem = inSystemArea / end,
            MeanLatencySeconds = all.Average(r => r.Finish - r.Arrival),
            MakespanSeconds = end,
            CompletionCounts = all.Select(r => r.CompletedCount).ToList(),
        };
    }

    private static double Interpolate(List<double> times, List<double> values, double t)
    {
        int i = times.BinarySearch(t);
        if (i >= 0) return values[i];
        i = ~i;
        if (i == 0) return values[0];
        if (i >= times.Count) return values[^1];
        double f = (t - times[i - 1]) / (times[i] - times[i - 1]);
        return values[i - 1] + f * (values[i] - values[i - 1]);
    }
}
