namespace GlmSharp.Inference;

/// <summary>
/// Picks tokens from logits according to <see cref="SamplingOptions"/>. Owns its work buffers, sized to the
/// vocabulary once, so sampling a token allocates nothing.
/// </summary>
public sealed class Sampler
{
    private readonly SamplingOptions _options;
    private readonly Random _random;
    private readonly int[] _candidates;
    private readonly float[] _candidateLogits;
    private readonly int[] _counts;

    public Sampler(SamplingOptions options, int vocabularySize)
    {
        options.Validate();
        _options = options;
        _random = options.Seed is int seed ? new Random(seed) : new Random();
        _candidates = new int[vocabularySize];
        _candidateLogits = new float[vocabularySize];
        _counts = new int[vocabularySize];
    }

    /// <summary>Chooses the next token. <paramref name="logits"/> is modified (penalties are applied in place).</summary>
    public int Sample(Span<float> logits, ReadOnlySpan<int> history)
    {
        ApplyPenalties(logits, history);
        if (_options.Temperature == 0) return ArgMax(logits);

        int count = SortedCandidates(logits);
        count = KeepTopP(count);
        count = KeepMinP(count);
        return Draw(count);
    }

    /// <summary>
    /// The distribution <see cref="Sample"/> draws from, over the whole vocabulary (zero outside the kept candidates;
    /// one-hot on the argmax when greedy), for speculative decoding, which must compare the draft's and the target's.
    /// <paramref name="logits"/> is modified as by <see cref="Sample"/>.
    /// </summary>
    public void Probabilities(Span<float> logits, ReadOnlySpan<int> history, Span<float> probabilities)
    {
        ApplyPenalties(logits, history);
        probabilities.Clear();
        if (_options.Temperature == 0)
        {
            probabilities[ArgMax(logits)] = 1;
            return;
        }
        int count = KeepMinP(KeepTopP(SortedCandidates(logits)));
        float max = _candidateLogits[0];
        double total = 0;
        for (int i = 0; i < count; i++) total += Math.Exp((_candidateLogits[i] - max) / _options.Temperature);
        for (int i = 0; i < count; i++) probabilities[_candidates[i]] = (float)(Math.Exp((_candidateLogits[i] - max) / _options.Temperature) / total);
    }

    /// <summary>A token drawn from <paramref name="probabilities"/> (which need not sum exactly to one).</summary>
    public int SampleFrom(ReadOnlySpan<float> probabilities)
    {
        double total = 0;
        foreach (float p in probabilities) total += p;
        double target = _random.NextDouble() * total, cumulative = 0;
        int last = 0;
        for (int i = 0; i < probabilities.Length; i++)
        {
            if (probabilities[i] <= 0) continue;
            cumulative += probabilities[i];
            last = i;
            if (cumulative >= target) return i;
        }
        return last;
    }

    /// <summary>A uniform draw from [0, 1) of this sampler's generator (its seed makes a run reproducible).</summary>
    public double Uniform() => _random.NextDouble();

    public static int ArgMax(ReadOnlySpan<float> logits)
    {
        int best = 0;
        for (int i = 1; i < logits.Length; i++)
            if (logits[i] > logits[best]) best = i;
        return best;
    }

    private void ApplyPenalties(Span<float> logits, ReadOnlySpan<int> history)
    {
        var o = _options;
        if (o.RepetitionPenalty == 1 && o.PresencePenalty == 0 && o.FrequencyPenalty == 0) return;
        var window = history[Math.Max(0, history.Length - o.PenaltyWindow)..];
        foreach (int t in window) _counts[t]++;
        foreach (int t in window)
        {
            int n = _counts[t];
            if (n == 0) continue;
            _counts[t] = 0;
            float l = logits[t];
            l = l > 0 ? l / o.RepetitionPenalty : l * o.RepetitionPenalty;
            logits[t] = l - n * o.FrequencyPenalty - o.PresencePenalty;
        }
    }

    /// <summary>Fills the candidate arrays with the top-k tokens (all when k is 0), most likely first.</summary>
    private int SortedCandidates(ReadOnlySpan<float> logits)
    {
        int n = logits.Length;
        for (int i = 0; i < n; i++)
        {
            _candidates[i] = i;
            _candidateLogits[i] = -logits[i];
        }
        int k = _options.TopK > 0 ? Math.Min(_options.TopK, n) : n;
        if (k < n) SelectSmallest(k, n);
        Array.Sort(_candidateLogits, _candidates, 0, k);
        for (int i = 0; i < k; i++) _candidateLogits[i] = -_candidateLogits[i];
        return k;
    }

    /// <summary>Quickselect: moves the k smallest keys (the k largest logits) to the front, unordered.</summary>
    private void SelectSmallest(int k, int n)
    {
        int lo = 0, hi = n - 1;
        while (lo < hi)
        {
            float pivot = _candidateLogits[(lo + hi) >>> 1];
            int i = lo, j = hi;
            while (i <= j)
            {
                while (_candidateLogits[i] < pivot) i++;
                while (_candidateLogits[j] > pivot) j--;
                if (i <= j)
                {
                    (_candidateLogits[i], _candidateLogits[j]) = (_candidateLogits[j], _candidateLogits[i]);
                    (_candidates[i], _candidates[j]) = (_candidates[j], _candidates[i]);
                    i++;
                    j--;
                }
            }
            if (k - 1 <= j) hi = j;
            else if (k - 1 >= i) lo = i;
            else break;
        }
    }

    private int KeepTopP(int count)
    {
        if (_options.TopP >= 1) return count;
        float max = _candidateLogits[0];
        double total = 0;
        for (int i = 0; i < count; i++) total += Math.Exp(_candidateLogits[i] - max);
        double cumulative = 0;
        for (int i = 0; i < count; i++)
        {
            cumulative += Math.Exp(_candidateLogits[i] - max) / total;
            if (cumulative >= _options.TopP) return i + 1;
        }
        return count;
    }

    private int KeepMinP(int count)
    {
        if (_options.MinP <= 0) return count;
        float threshold = _candidateLogits[0] + MathF.Log(_options.MinP);
        int kept = 1;
        while (kept < count && _candidateLogits[kept] >= threshold) kept++;
        return kept;
    }

    private int Draw(int count)
    {
        float max = _candidateLogits[0];
        double total = 0;
        for (int i = 0; i < count; i++) total += Math.Exp((_candidateLogits[i] - max) / _options.Temperature);
        double target = _random.NextDouble() * total;
        double cumulative = 0;
        for (int i = 0; i < count; i++)
        {
            cumulative += Math.Exp((_candidateLogits[i] - max) / _options.Temperature);
            if (cumulative >= target) return _candidates[i];
        }
        return _candidates[count - 1];
    }
}
