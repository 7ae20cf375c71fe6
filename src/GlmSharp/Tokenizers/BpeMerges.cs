namespace GlmSharp.Tokenizers;

/// <summary>
/// The ranked merge table and the merge loop for one word. Merging follows Hugging Face and llama.cpp: repeatedly
/// merge the adjacent pair of lowest rank, the leftmost one first when a pair occurs several times.
/// </summary>
internal sealed class BpeMerges
{
    private readonly Dictionary<long, (int Rank, int Merged)> _pairs;

    public BpeMerges(Dictionary<long, (int Rank, int Merged)> pairs) => _pairs = pairs;

    public int Count => _pairs.Count;

    public static long Key(int left, int right) => (long)left << 32 | (uint)right;

    /// <summary>Merges <paramref name="symbols"/> (initially one byte token each) in place; returns the final count.</summary>
    public int Apply(Span<int> symbols)
    {
        int n = symbols.Length;
        if (n < 2) return n;

        var next = new int[n];
        var prev = new int[n];
        for (int i = 0; i < n; i++) { next[i] = i + 1 < n ? i + 1 : -1; prev[i] = i - 1; }

        // Priority = rank, then position: the lowest-ranked pair wins, ties go to the leftmost occurrence.
        var queue = new PriorityQueue<(int Left, int LeftId, int RightId), (int Rank, int Pos)>();
        for (int i = 0; i + 1 < n; i++) Enqueue(queue, symbols, i, i + 1);

        while (queue.TryDequeue(out var pair, out _))
        {
            int left = pair.Left;
            int right = next[left];
            // Stale entries: either side has merged since this pair was queued.
            if (right < 0 || symbols[left] != pair.LeftId || symbols[right] != pair.RightId || prev[right] != left) continue;

            symbols[left] = _pairs[Key(pair.LeftId, pair.RightId)].Merged;
            symbols[right] = -1;
            next[left] = next[right];
            if (next[right] >= 0) prev[next[right]] = left;
            prev[right] = -2;

            if (prev[left] >= 0) Enqueue(queue, symbols, prev[left], left);
            if (next[left] >= 0) Enqueue(queue, symbols, left, next[left]);
        }

        int count = 0;
        for (int i = 0; i >= 0; i = next[i]) symbols[count++] = symbols[i];
        return count;
    }

    private void Enqueue(PriorityQueue<(int, int, int), (int, int)> queue, Span<int> symbols, int left, int right)
    {
        if (_pairs.TryGetValue(Key(symbols[left], symbols[right]), out var merge))
            queue.Enqueue((left, symbols[left], symbols[right]), (merge.Rank, left));
    }
}
