using GlmSharp.Errors;

namespace GlmSharp.Training;

/// <summary>
/// A token stream for training: ids, and optionally which positions are scored as targets (for supervised turns only the
/// assistant's tokens are). Windows of seqLen + 1 tokens give inputs and next-token targets.
/// </summary>
/// <remarks>
/// With <c>documentStarts</c> (ascending positions where a conversation begins), a window scores only the documents that
/// begin inside it. A window that opens in the middle of an answer would otherwise teach the model to end a turn with
/// no <c>&lt;|assistant|&gt;</c> in sight, which is exactly what plain-text continuations look like at inference.
/// </remarks>
public sealed class TokenStream
{
    public TokenStream(int[] ids, bool[]? scored = null, int[]? documentStarts = null)
    {
        if (scored is not null && scored.Length != ids.Length)
            throw new GlmException($"token stream has {ids.Length} ids but {scored.Length} scoring flags");
        if (documentStarts is not null)
            for (int i = 0; i < documentStarts.Length; i++)
                if ((uint)documentStarts[i] >= (uint)ids.Length || (i > 0 && documentStarts[i] <= documentStarts[i - 1]))
                    throw new GlmException($"document start {i} ({documentStarts[i]}) is not an ascending position inside the {ids.Length} ids");
        Ids = ids;
        Scored = scored;
        DocumentStarts = documentStarts;
    }

    public int[] Ids { get; }
    public bool[]? Scored { get; }
    public int[]? DocumentStarts { get; }

    public void CheckVocabulary(int vocabSize, string name)
    {
        for (int i = 0; i < Ids.Length; i++)
            if ((uint)Ids[i] >= (uint)vocabSize)
                throw new ContextLimitException($"{name}: token id {Ids[i]} at position {i} is outside the vocabulary of {vocabSize}");
    }

    /// <summary>Writes the window starting at <paramref name="start"/>: inputs ids[start..+len], targets shifted by one.</summary>
    public void Window(int start, Span<int> inputs, Span<int> targets)
    {
        int firstScorable = FirstDocumentStartFrom(start);
        for (int t = 0; t < inputs.Length; t++)
        {
            inputs[t] = Ids[start + t];
            int next = start + t + 1;
            targets[t] = next >= firstScorable && (Scored is null || Scored[next]) ? Ids[next] : -1;
        }
    }

    private int FirstDocumentStartFrom(int position)
    {
        if (DocumentStarts is null) return 0;
        int index = Array.BinarySearch(DocumentStarts, position);
        if (index < 0) index = ~index;
        return index < DocumentStarts.Length ? DocumentStarts[index] : int.MaxValue;
    }
}

/// <summary>
/// Random training windows whose positions depend only on (seed, step), so a run resumed at step s sees exactly the
/// batches the uninterrupted run would have seen. With a plain-text stream, the first rows of every batch are windows of
/// it instead (a dialogue pass that keeps the model continuing raw text: every token of those rows is scored).
/// </summary>
public sealed class TokenBatchSampler
{
    private readonly TokenStream _stream;
    private readonly TokenStream? _plainText;
    private readonly ulong _seed;

    public TokenBatchSampler(TokenStream stream, int batchSize, int seqLen, ulong seed, TokenStream? plainText = null, int plainTextRows = 0)
    {
        CheckLength(stream, seqLen, "training data");
        if (plainTextRows < 0 || plainTextRows > batchSize)
            throw new GlmException($"{plainTextRows} plain-text rows do not fit a batch of {batchSize}");
        if (plainTextRows > 0) CheckLength(plainText ?? throw new GlmException($"{plainTextRows} plain-text rows asked for, but no plain text given"), seqLen, "plain text");
        _stream = stream;
        _plainText = plainTextRows > 0 ? plainText : null;
        _seed = seed;
        BatchSize = batchSize;
        SeqLen = seqLen;
        PlainTextRows = plainTextRows;
    }

    public int BatchSize { get; }
    public int SeqLen { get; }
    public int PlainTextRows { get; }

    public void Fill(long step, Span<int> inputs, Span<int> targets)
    {
        var random = TrainingRandom.ForStream(_seed, 2, (ulong)step);
        for (int b = 0; b < BatchSize; b++)
        {
            var source = b < PlainTextRows ? _plainText! : _stream;
            source.Window(random.NextInt(source.Ids.Length - SeqLen), inputs.Slice(b * SeqLen, SeqLen), targets.Slice(b * SeqLen, SeqLen));
        }
    }

    private static void CheckLength(TokenStream stream, int seqLen, string name)
    {
        if (stream.Ids.Length < seqLen + 1)
            throw new GlmException($"the {name} holds {stream.Ids.Length} tokens, fewer than one window of {seqLen + 1}");
    }

    /// <summary>Consecutive non-overlapping windows from the start, for evaluation; at most <paramref name="maxBatches"/> batches.</summary>
    public static IEnumerable<(int[] Inputs, int[] Targets)> Sequential(TokenStream stream, int batchSize, int seqLen, int maxBatches)
    {
        int windows = Math.Min((stream.Ids.Length - 1) / seqLen, maxBatches * batchSize);
        for (int first = 0; first + batchSize <= windows; first += batchSize)
        {
            var inputs = new int[batchSize * seqLen];
            var targets = new int[batchSize * seqLen];
            for (int b = 0; b < batchSize; b++)
                stream.Window((first + b) * seqLen, inputs.AsSpan(b * seqLen, seqLen), targets.AsSpan(b * seqLen, seqLen));
            yield return (inputs, targets);
        }
    }
}
