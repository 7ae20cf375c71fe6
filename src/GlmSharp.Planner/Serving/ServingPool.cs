using GlmSharp.Planner.Cost;

namespace GlmSharp.Planner.Serving;

internal enum PoolRole { Mixed, PrefillOnly, DecodeOnly }

/// <summary>
/// A group of identical DP ranks that step together under continuous batching: admit requests while their full KV
/// reservation fits, give decoding requests one step each, and fill the rest of the step with prefill chunks (FCFS).
/// The ranks share the batch evenly, so a step costs one rank's share.
/// </summary>
internal sealed class ServingPool
{
    private readonly StepCostModel _cost;
    private readonly int _ranks;
    private readonly double _acceptance;
    private readonly int? _topK;
    private readonly Queue<SimRequest> _waiting = new();
    private readonly List<SimRequest> _running = [];
    private readonly List<(SimRequest Request, int Chunk)> _prefillPlan = [];
    private readonly List<SimRequest> _decodePlan = [];

    public ServingPool(StepCostModel cost, PoolRole role, double acceptance, int chunkTokensPerChip, int maxBatchPerChip)
    {
        _cost = cost;
        Role = role;
        _acceptance = acceptance;
        var d = cost.Deployment;
        _ranks = d.Parallel.Dp;
        _topK = d.Model.Attention.Indexer?.TopK;
        int chipsPerRank = d.Parallel.Tp * d.Parallel.Pp;
        KvCapacityTokens = MemoryModel.KvTokenCapacityPerChip(d) * _ranks;
        ChunkTokens = (long)chunkTokensPerChip * d.Parallel.Chips;
        MaxRunning = maxBatchPerChip * chipsPerRank * _ranks;
    }

    public PoolRole Role { get; }
    public double KvCapacityTokens { get; }
    public long ChunkTokens { get; }
    public int MaxRunning { get; }
    public long Reserved { get; private set; }
    public double PeakKvFraction { get; private set; }
    public bool Busy { get; private set; }
    public double StepEnd { get; private set; } = double.PositiveInfinity;
    public bool HasWork => _waiting.Count > 0 || _running.Count > 0;

    public void Enqueue(SimRequest r)
    {
        if (Reservation(r) > KvCapacityTokens)
            throw new Catalog.PlanRequestException($"a request of {r.Input}+{r.Output} tokens needs more KV than the pool's {KvCapacityTokens:F0}-token capacity");
        _waiting.Enqueue(r);
    }

    private int Reservation(SimRequest r) => Role == PoolRole.PrefillOnly ? r.Input : r.KvReservation;

    /// <summary>Starts a step at <paramref name="now"/> if there is anything to run.</summary>
    public bool TryStart(double now)
    {
        while (_waiting.Count > 0 && _running.Count < MaxRunning && Reserved + Reservation(_waiting.Peek()) <= KvCapacityTokens)
        {
            var r = _waiting.Dequeue();
            Reserved += Reservation(r);
            _running.Add(r);
        }
        PeakKvFraction = Math.Max(PeakKvFraction, Reserved / KvCapacityTokens);
        _prefillPlan.Clear();
        _decodePlan.Clear();
        int draft = _cost.Deployment.DraftTokens;
        double q = 1.0 + draft;
        double decodeKv = 0, attended = 0;
        long budget = ChunkTokens;
        var batch = StepBatch.Empty;
        foreach (var r in _running)
        {
            if (r.PrefillDone)
            {
                double ctx = r.Input + r.Generated;
                decodeKv += q * ctx;
                attended += q * Math.Min(ctx, _topK ?? double.MaxValue);
                _decodePlan.Add(r);
            }
            else if (budget > 0)
            {
                int chunk = (int)Math.Min(r.Input - r.Prefilled, budget);
                budget -= chunk;
                _prefillPlan.Add((r, chunk));
                batch += StepBatch.Prefill(chunk, r.Prefilled, _topK, r.Prefilled + chunk >= r.Input);
            }
        }
        if (_decodePlan.Count == 0 && _prefillPlan.Count == 0) return false;
        batch += new StepBatch { DecodeRequests = _decodePlan.Count, DecodeTokens = q * _decodePlan.Count, DecodeKvTokens = decodeKv, AttendedTokens = attended };
        double dt = _cost.Step(batch.Scale(1.0 / _ranks)).Total;
        Busy = true;
        StepEnd = now + dt;
        return true;
    }

    /// <summary>Ends the current step: advances prefill and decode, hands finished prompts or requests to the callbacks.</summary>
    public (long PrefilledTokens, double GeneratedTokens) Finish(Action<SimRequest> prefillDone, Action<SimRequest> completed)
    {
        double now = StepEnd;
        long prefilled = 0;
        double generated = 0;
        double perStep = SteadyState.TokensPerStep(_cost.Deployment.DraftTokens, _acceptance);
        foreach (var r in _decodePlan)
        {
            double add = Math.Min(perStep, r.Output - r.Generated);
            r.Generated += add;
            generated += add;
            if (r.Generated >= r.Output - 1e-9) Release(r, now, completed);
        }
        foreach (var (r, chunk) in _prefillPlan)
        {
            r.Prefilled += chunk;
            prefilled += chunk;
            if (!r.PrefillDone) continue;
            if (Role == PoolRole.PrefillOnly)
            {
                _running.Remove(r);
                Reserved -= Reservation(r);
                prefillDone(r);
                continue;
            }
            r.FirstToken = now;
            r.Generated = 1;
            generated += 1;
            if (r.Output <= 1) Release(r, now, completed);
        }
        Busy = false;
        StepEnd = double.PositiveInfinity;
        return (prefilled, generated);
    }

    private void Release(SimRequest r, double now, Action<SimRequest> completed)
    {
        _running.Remove(r);
        Reserved -= Reservation(r);
        r.Finish = now;
        completed(r);
    }
}
