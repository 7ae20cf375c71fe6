namespace GlmSharp.Batching;

/// <summary>
/// The rows of one forward step, from any number of sequences: each row has its token, its sequence and its
/// position(s), and says whether it wants logits. Rows of one sequence continue that sequence's cache in the order
/// they are added; prefill chunks of some sequences and decode rows of others can share a step. Positions are the
/// caller's data: one component per row for text, several for multi-axis rotary embeddings (M-RoPE). A row may carry
/// an input embedding instead of a token (an image token from a vision tower), which enters the layers as it is.
/// Reused from step to step with <see cref="Clear"/>, it allocates only when it outgrows its capacity.
/// </summary>
public sealed class Batch
{
    private int[] _tokens, _sequences, _positions;
    private bool[] _wantsLogits;
    private int[] _embeddingOf;
    private readonly List<float> _embeddings = [];

    public int PositionComponents { get; }
    public int Count { get; private set; }

    /// <summary>Rows that asked for logits; the step writes their logits in row order, [LogitRows, vocab].</summary>
    public int LogitRows { get; private set; }

    public Batch(int capacity = 1, int positionComponents = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(positionComponents, 1);
        PositionComponents = positionComponents;
        _tokens = new int[capacity];
        _sequences = new int[capacity];
        _wantsLogits = new bool[capacity];
        _embeddingOf = new int[capacity];
        _positions = new int[capacity * positionComponents];
    }

    /// <summary>Width of the embedding rows added so far (0 while there are none).</summary>
    public int EmbeddingWidth { get; private set; }

    /// <summary>Whether any row carries an embedding instead of a token.</summary>
    public bool HasEmbeddings => EmbeddingWidth > 0;

    /// <summary>Row <paramref name="row"/>'s input embedding, or empty for a token row.</summary>
    public ReadOnlySpan<float> Embedding(int row)
    {
        int index = _embeddingOf[row];
        return index < 0 ? default : System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_embeddings).Slice(index * EmbeddingWidth, EmbeddingWidth);
    }

    public ReadOnlySpan<int> Tokens => _tokens.AsSpan(0, Count);
    public ReadOnlySpan<int> Sequences => _sequences.AsSpan(0, Count);
    public ReadOnlySpan<bool> WantsLogits => _wantsLogits.AsSpan(0, Count);

    /// <summary>[Count, PositionComponents], row-major.</summary>
    public ReadOnlySpan<int> Positions => _positions.AsSpan(0, Count * PositionComponents);

    /// <summary>Adds a text row: one position.</summary>
    public void Add(int token, int sequence, int position, bool wantsLogits = false)
    {
        if (PositionComponents != 1)
            throw new InvalidOperationException($"this batch takes {PositionComponents} position components per row");
        Add(token, sequence, new ReadOnlySpan<int>(in position), wantsLogits);
    }

    public void Add(int token, int sequence, ReadOnlySpan<int> position, bool wantsLogits = false)
    {
        AddRow(token, -1, sequence, position, wantsLogits);
    }

    /// <summary>Adds a row whose input is <paramref name="embedding"/> (hidden-size wide) rather than a token's embedding.</summary>
    public void AddEmbedding(ReadOnlySpan<float> embedding, int sequence, ReadOnlySpan<int> position, bool wantsLogits = false)
    {
        if (embedding.IsEmpty) throw new ArgumentException("an embedding row needs values", nameof(embedding));
        if (HasEmbeddings && embedding.Length != EmbeddingWidth)
            throw new ArgumentException($"embedding rows of this batch are {EmbeddingWidth} wide, not {embedding.Length}", nameof(embedding));
        EmbeddingWidth = embedding.Length;
        int index = _embeddings.Count / embedding.Length;
        _embeddings.AddRange(embedding);
        AddRow(0, index, sequence, position, wantsLogits);
    }

    private void AddRow(int token, int embedding, int sequence, ReadOnlySpan<int> position, bool wantsLogits)
    {
        if (position.Length != PositionComponents)
            throw new ArgumentException($"a row of this batch has {PositionComponents} position components, not {position.Length}", nameof(position));
        if (Count == _tokens.Length) Grow();
        _embeddingOf[Count] = embedding;
        _tokens[Count] = token;
        _sequences[Count] = sequence;
        _wantsLogits[Count] = wantsLogits;
        position.CopyTo(_positions.AsSpan(Count * PositionComponents));
        if (wantsLogits) LogitRows++;
        Count++;
    }

    /// <summary>Adds consecutive text rows of one sequence from <paramref name="firstPosition"/> on.</summary>
    public void AddSequence(ReadOnlySpan<int> tokens, int sequence, int firstPosition, bool logitsForLast = true)
    {
        for (int i = 0; i < tokens.Length; i++) Add(tokens[i], sequence, firstPosition + i, logitsForLast && i == tokens.Length - 1);
    }

    public void Clear()
    {
        Count = 0;
        LogitRows = 0;
        EmbeddingWidth = 0;
        _embeddings.Clear();
    }

    private void Grow()
    {
        int capacity = _tokens.Length * 2;
        Array.Resize(ref _tokens, capacity);
        Array.Resize(ref _sequences, capacity);
        Array.Resize(ref _wantsLogits, capacity);
        Array.Resize(ref _embeddingOf, capacity);
        Array.Resize(ref _positions, capacity * PositionComponents);
    }
}
