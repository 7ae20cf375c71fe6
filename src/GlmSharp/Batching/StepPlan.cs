using GlmSharp.Errors;
using GlmSharp.Kernels.Paging;

namespace GlmSharp.Batching;

/// <summary>
/// Turns a <see cref="Batch"/> into cache rows: checks it, makes room in the cache for every sequence it extends
/// (all or nothing), and gives each row its slot and its sequence's block table, laid out once for every layer of
/// the step. Its buffers grow with the largest batch seen and are then reused, so a decode step allocates nothing.
/// </summary>
internal sealed class StepPlan
{
    private int[] _slots = new int[1], _tableStarts = new int[1], _blockIds = new int[16];
    private int[] _distinct = new int[1], _rowsOf = new int[1], _tableStartOf = new int[1], _indexOf = [], _stampOf = [];
    private int _stamp, _distinctCount, _blockIdCount, _rows;

    /// <summary>Cache rows of batch rows [first, first + count).</summary>
    public CacheRows Rows(int first, int count) =>
        new(_slots.AsSpan(first, count), _tableStarts.AsSpan(first, count), _blockIds.AsSpan(0, _blockIdCount));

    /// <param name="maxLength">The most positions a sequence may hold (the model's or the session's context).</param>
    public void Prepare(Batch batch, PagedKvCache cache, int vocab, int maxLength, string origin)
    {
        if (batch.Count == 0) throw new ArgumentException("the batch has no rows", nameof(batch));
        _rows = batch.Count;
        EnsureRows(_rows);
        EnsureSequences(cache);
        _stamp++;
        _distinctCount = 0;
        var tokens = batch.Tokens;
        var sequences = batch.Sequences;
        for (int r = 0; r < _rows; r++)
        {
            if ((uint)tokens[r] >= (uint)vocab)
                throw new ContextLimitException($"batch row {r}: token id {tokens[r]} is outside the vocabulary 0..{vocab - 1} of {origin}");
            int sequence = sequences[r];
            if (!cache.Exists(sequence)) throw new ArgumentException($"batch row {r}: sequence {sequence} does not exist (never created, or freed)");
            if (_stampOf[sequence] != _stamp)
            {
                _stampOf[sequence] = _stamp;
                _indexOf[sequence] = _distinctCount;
                _distinct[_distinctCount] = sequence;
                _rowsOf[_distinctCount++] = 0;
            }
            int slot = cache.Length(sequence) + _rowsOf[_indexOf[sequence]]++;
            if (slot >= maxLength)
                throw new ContextLimitException($"batch row {r}: sequence {sequence} would hold {slot + 1} positions, more than the context of {maxLength}");
            if (batch.PositionComponents == 1 && batch.Positions[r] != slot)
                throw new ArgumentException(
                    $"batch row {r}: sequence {sequence} continues at position {slot}, the row says {batch.Positions[r]} (rows of a sequence follow its cache in order)");
            _slots[r] = slot;
        }

        cache.Append(_distinct.AsSpan(0, _distinctCount), _rowsOf.AsSpan(0, _distinctCount));

        _blockIdCount = 0;
        for (int i = 0; i < _distinctCount; i++)
        {
            var table = cache.BlockTable(_distinct[i]);
            if (_blockIds.Length < _blockIdCount + table.Length) Array.Resize(ref _blockIds, 2 * (_blockIdCount + table.Length));
            table.CopyTo(_blockIds.AsSpan(_blockIdCount));
            _tableStartOf[i] = _blockIdCount;
            _blockIdCount += table.Length;
        }
        for (int r = 0; r < _rows; r++) _tableStarts[r] = _tableStartOf[_indexOf[sequences[r]]];
    }

    private void EnsureRows(int rows)
    {
        if (_slots.Length >= rows) return;
        int capacity = Math.Max(rows, 2 * _slots.Length);
        Array.Resize(ref _slots, capacity);
        Array.Resize(ref _tableStarts, capacity);
        Array.Resize(ref _distinct, capacity);
        Array.Resize(ref _rowsOf, capacity);
        Array.Resize(ref _tableStartOf, capacity);
    }

    private void EnsureSequences(PagedKvCache cache)
    {
        int ids = cache.IdCapacity;
        if (_stampOf.Length >= ids) return;
        Array.Resize(ref _stampOf, Math.Max(ids, 2 * _stampOf.Length));
        Array.Resize(ref _indexOf, _stampOf.Length);
    }
}
