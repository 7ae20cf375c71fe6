using GlmSharp.Batching;

namespace GlmSharp.Serving;

/// <summary>
/// The KV of finished requests, kept so that a later request starting with the same tokens (a system prompt, the chat
/// history of the previous turn) forks it instead of computing it again. An entry is a retired sequence of the paged
/// cache with the tokens its positions hold; a request that reuses one shares its blocks (the partly filled last one
/// is copied when written). Entries go, least recently used first, when the cache needs their blocks or when there
/// are more than <see cref="Capacity"/>. Not thread-safe: the batcher's loop alone uses it.
/// </summary>
internal sealed class PrefixCache(PagedKvCache cache, int capacity)
{
    private readonly List<Entry> _entries = [];
    private int[] _marks = [];
    private int _epoch;

    private sealed record Entry(int Sequence, int[] Tokens);

    /// <summary>Entries kept at most; 0 turns reuse off.</summary>
    public int Capacity { get; } = capacity;

    public int Count => _entries.Count;

    /// <summary>
    /// A sequence for <paramref name="prompt"/> holding the longest cached prefix of it, at most all but its last
    /// token (whose logits the request needs), and how many positions that is; a new empty sequence when none matches.
    /// </summary>
    public (int Sequence, int Reused) Open(ReadOnlySpan<int> prompt)
    {
        int best = -1, reused = 0;
        for (int i = 0; i < _entries.Count; i++)
        {
            int common = prompt[..^1].CommonPrefixLength(_entries[i].Tokens);
            if (common > reused)
            {
                best = i;
                reused = common;
            }
        }
        if (best < 0) return (cache.CreateSequence(), 0);
        var entry = _entries[best];
        _entries.RemoveAt(best);
        _entries.Add(entry);
        int sequence = cache.Fork(entry.Sequence);
        cache.Truncate(sequence, reused);
        return (sequence, reused);
    }

    /// <summary>
    /// Keeps a finished request's sequence, whose positions hold <paramref name="tokens"/>, as the newest entry; an
    /// entry holding a prefix of it is dropped, and it is dropped itself when an entry already holds it all.
    /// </summary>
    public void Retire(int sequence, ReadOnlySpan<int> tokens)
    {
        if (Capacity == 0 || tokens.IsEmpty || IsHeld(tokens))
        {
            cache.Free(sequence);
            return;
        }
        for (int i = _entries.Count - 1; i >= 0; i--)
            if (tokens.StartsWith(_entries[i].Tokens)) Drop(i);
        _entries.Add(new Entry(sequence, tokens.ToArray()));
        if (_entries.Count > Capacity) Drop(0);
    }

    private bool IsHeld(ReadOnlySpan<int> tokens)
    {
        foreach (var entry in _entries)
            if (entry.Tokens.AsSpan().StartsWith(tokens)) return true;
        return false;
    }

    /// <summary>Frees the least recently used entry; false when there is none.</summary>
    public bool EvictOldest()
    {
        if (_entries.Count == 0) return false;
        Drop(0);
        return true;
    }

    private void Drop(int index)
    {
        cache.Free(_entries[index].Sequence);
        _entries.RemoveAt(index);
    }

    /// <summary>Blocks the entries hold that none of <paramref name="running"/> uses: what evicting them all would free.</summary>
    public int IdleBlocks(IEnumerable<int> running)
    {
        if (_entries.Count == 0) return 0;
        if (_marks.Length < cache.Pool.BlockCount) _marks = new int[cache.Pool.BlockCount];
        int inUse = ++_epoch, counted = ++_epoch;
        foreach (int sequence in running)
            foreach (int block in cache.BlockTable(sequence)) _marks[block] = inUse;
        int idle = 0;
        foreach (var entry in _entries)
            foreach (int block in cache.BlockTable(entry.Sequence))
                if (_marks[block] != inUse && _marks[block] != counted)
                {
                    _marks[block] = counted;
                    idle++;
                }
        return idle;
    }
}
