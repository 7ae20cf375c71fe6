using GlmSharp.Batching;
using GlmSharp.Configs;
using GlmSharp.Errors;
using GlmSharp.Formats;
using GlmSharp.Kernels;
using GlmSharp.Kernels.Paging;
using GlmSharp.Models.Blocks;
using GlmSharp.Tensors;

namespace GlmSharp.Models;

/// <summary>Which positions of a forward pass need logits.</summary>
public enum LogitsFor
{
    LastToken,
    AllTokens,
}

/// <summary>
/// The frame every GLM text model shares: token embedding → decoder layers → final RMSNorm → LM head
/// (or the embedding matrix when tied). Architecture files supply the layers. A step runs a <see cref="Batch"/>
/// of rows from any number of sequences through every layer once, so each weight is read once per step however
/// many sequences it serves; one sequence is the special case (<see cref="ModelSession"/>).
/// </summary>
public sealed class CausalLm : IDisposable
{
    /// <summary>
    /// Rows run through the layers together; bounds the activation buffers, not the prompt length. 512 as
    /// llama.cpp's micro-batch: prefill kernels unpack or transpose each weight block once per batch, so a batch of 64
    /// repeated that work eight times over a 512-token prompt (measured: F16 prefill at half speed).
    /// </summary>
    public const int DefaultBatchRows = 512;

    /// <summary>Positions per cache block: one attention tile, so a tile's rows are contiguous.</summary>
    public const int DefaultBlockPositions = 64;

    private readonly IComputeBackend _backend;
    private readonly TensorView _embedding;
    private readonly IDecoderLayer[] _layers;
    private readonly LogitHead _logitHead;
    private readonly ITensorSource _weights;

    public ModelConfig Config { get; }
    public string Origin => _weights.Origin;

    /// <summary>The checkpoint's tensors, under Hugging Face names.</summary>
    public ITensorSource Weights => _weights;

    /// <summary>What each layer caches per position.</summary>
    public IReadOnlyList<LayerCacheSpec> CacheLayout { get; }

    /// <summary>The rotary embedding the layers share: how many position components a batch row carries, and a text row's.</summary>
    public RopeTable Rope { get; }

    private readonly Lazy<MtpLayer?> _nextN;

    /// <summary>
    /// The checkpoint's multi-token-prediction layer, if it has one and the architecture reads it; drafts for speculative
    /// decoding. Built on first use, so a model that never drafts never prepares its weights.
    /// </summary>
    public MtpLayer? NextN => _nextN.Value;

    /// <param name="nextN">Builds the multi-token-prediction layer, given the main model's embedding and LM head (which it may share).</param>
    public CausalLm(ModelConfig config, ITensorSource owner, WeightBuilder weights, RopeTable rope, IDecoderLayer[] layers,
        Func<TensorView, Linear, MtpLayer?>? nextN = null)
    {
        Config = config;
        Rope = rope;
        _weights = owner;
        _backend = weights.Backend;
        _layers = layers;
        CacheLayout = layers.Select(layer => layer.CacheSpec).ToArray();
        var backend = weights.Backend;
        var w = weights.At("model");
        _embedding = w.Matrix("embed_tokens.weight", config.VocabSize, config.HiddenSize);
        var finalNorm = RmsNorm.Load(w, backend, "norm", config.HiddenSize, config.RmsNormEps);
        var head = config.TieWordEmbeddings && !weights.Has("lm_head.weight")
            ? new Linear(backend, _embedding, null)
            : Linear.Load(weights, backend, "lm_head", config.HiddenSize, config.VocabSize);
        _logitHead = new LogitHead(backend, finalNorm, head);
        _nextN = new Lazy<MtpLayer?>(() => nextN?.Invoke(_embedding, head));
    }

    /// <summary>Builds the frame around one decoder layer per <c>model.layers.N</c>, given its weights and its index N.</summary>
    public static CausalLm FromLayers(ModelConfig config, ITensorSource owner, WeightBuilder weights, RopeTable rope, Func<WeightBuilder, int, IDecoderLayer> layer,
        Func<TensorView, Linear, MtpLayer?>? nextN = null)
    {
        var layers = weights.At("model").At("layers");
        var blocks = new IDecoderLayer[config.NumLayers];
        for (int i = 0; i < blocks.Length; i++) blocks[i] = layer(layers.At(i), i);
        return new CausalLm(config, owner, weights, rope, blocks, nextN);
    }

    /// <summary>
    /// A context for many sequences whose cache holds <paramref name="cachePositions"/> positions in all (shared by
    /// every sequence, in blocks of <paramref name="blockPositions"/>), of <paramref name="cacheType"/> values, or of
    /// <paramref name="streamTypes"/>' types in the streams they name (<see cref="KvBlockPool"/>).
    /// </summary>
    public ModelContext CreateContext(int cachePositions, int maxStepRows = DefaultBatchRows, KvCacheType cacheType = KvCacheType.F16,
        int blockPositions = DefaultBlockPositions, IReadOnlyDictionary<string, KvCacheType>? streamTypes = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(cachePositions, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxStepRows, 1);
        int blocks = (cachePositions + blockPositions - 1) / blockPositions;
        return CreateContext(new KvBlockPool(CacheLayout, blocks, blockPositions, cacheType, _backend, streamTypes), maxStepRows, Config.MaxPositions);
    }

    /// <summary>A context whose cache takes at most <paramref name="cacheBytes"/> bytes.</summary>
    public ModelContext CreateContextWithBudget(long cacheBytes, int maxStepRows = DefaultBatchRows, KvCacheType cacheType = KvCacheType.F16,
        int blockPositions = DefaultBlockPositions)
    {
        int blocks = KvBlockPool.BlocksFor(cacheBytes, CacheLayout, blockPositions, cacheType);
        return CreateContext(new KvBlockPool(CacheLayout, blocks, blockPositions, cacheType, _backend), Math.Max(1, maxStepRows), Config.MaxPositions);
    }

    private ModelContext CreateContext(KvBlockPool pool, int maxStepRows, int maxSequenceLength) =>
        ModelContext.Create(_backend, Config, pool, maxStepRows, maxSequenceLength);

    /// <summary>A new, empty conversation; its KV cache holds <paramref name="cacheType"/> values (F16 unless asked, as llama.cpp).</summary>
    /// <param name="streamTypes">Element types of the cache streams of these names in place of <paramref name="cacheType"/> (<see cref="KvBlockPool"/>).</param>
    public ModelSession CreateSession(int? contextLength = null, int maxBatchRows = DefaultBatchRows, KvCacheType cacheType = KvCacheType.F16,
        IReadOnlyDictionary<string, KvCacheType>? streamTypes = null)
    {
        int context = contextLength ?? Config.MaxPositions;
        if (context <= 0 || context > Config.MaxPositions)
            throw new ContextLimitException($"context length {context} is outside 1..{Config.MaxPositions} (max_position_embeddings of {Origin})");
        int blocks = (context + DefaultBlockPositions - 1) / DefaultBlockPositions;
        var pool = new KvBlockPool(CacheLayout, blocks, DefaultBlockPositions, cacheType, _backend, streamTypes);
        return new ModelSession(CreateContext(pool, Math.Min(maxBatchRows, context), context), context, Rope.PositionComponents);
    }

    /// <summary>
    /// Runs one step: every row of <paramref name="batch"/> through every layer, appending each row to its sequence's
    /// cache, and writes the logits of the rows that asked for them, in row order ([batch.LogitRows, vocab]). A batch
    /// longer than the context's step rows runs in several passes. When the cache cannot hold the batch, or a row is
    /// invalid, it throws before any sequence changes. With <paramref name="hiddenStates"/>, every row's final hidden
    /// state (after the final norm, what the LM head reads; [batch.Count, hidden]) is written there too, for a
    /// multi-token-prediction layer to draft from.
    /// </summary>
    public void Decode(Batch batch, ModelContext context, Span<float> logits, Span<float> hiddenStates = default)
    {
        int vocab = Config.VocabSize, hiddenSize = Config.HiddenSize;
        if (batch.PositionComponents != Rope.PositionComponents)
            throw new ArgumentException($"the batch carries {batch.PositionComponents} position components per row, {Origin} takes {Rope.PositionComponents}", nameof(batch));
        int needed = batch.LogitRows * vocab;
        if (logits.Length < needed) throw new ArgumentException($"logits buffer holds {logits.Length} values, {needed} needed", nameof(logits));
        if (batch.HasEmbeddings && batch.EmbeddingWidth != hiddenSize)
            throw new ArgumentException($"the batch's embedding rows are {batch.EmbeddingWidth} wide, {Origin} takes {hiddenSize}", nameof(batch));
        if (!hiddenStates.IsEmpty && hiddenStates.Length < batch.Count * hiddenSize)
            throw new ArgumentException($"hidden-state buffer holds {hiddenStates.Length} values, {batch.Count * hiddenSize} needed", nameof(hiddenStates));
        var plan = context.Plan;
        plan.Prepare(batch, context.Cache, vocab, context.MaxSequenceLength, Origin);

        var scratch = context.Scratch;
        var wantsLogits = batch.WantsLogits;
        int components = batch.PositionComponents, written = 0;
        for (int start = 0; start < batch.Count; start += scratch.MaxRows)
        {
            int rows = Math.Min(scratch.MaxRows, batch.Count - start);
            var hidden = scratch.Hidden(rows);
            _backend.GatherRows(_embedding, batch.Tokens.Slice(start, rows), hidden);
            if (batch.HasEmbeddings) PlaceEmbeddingRows(batch, start, rows, hidden);
            var step = new ForwardStep(rows, batch.Positions.Slice(start * components, rows * components), plan.Rows(start, rows), scratch);
            for (int l = 0; l < _layers.Length; l++)
                _layers[l].Forward(hidden, step, new LayerCache(context.Pool, l));
            if (!hiddenStates.IsEmpty)
            {
                var normedRows = scratch.Normed(rows);
                _logitHead.Norm.Apply(hidden, normedRows, rows);
                _backend.Download(normedRows, hiddenStates.Slice(start * hiddenSize, rows * hiddenSize));
            }

            written += _logitHead.Write(hidden, rows, wantsLogits.Slice(start, rows), scratch, logits.Slice(written * vocab));
        }
        GC.KeepAlive(context); // the kernels read its cache through raw pointers
    }

    /// <summary>Overwrites the gathered token embedding of each embedding row of the pass with the row's own values.</summary>
    private void PlaceEmbeddingRows(Batch batch, int start, int rows, DeviceSpan<float> hidden)
    {
        int width = Config.HiddenSize;
        for (int r = 0; r < rows; r++)
        {
            var embedding = batch.Embedding(start + r);
            if (!embedding.IsEmpty) _backend.Upload(embedding, hidden.Slice(r * width, width));
        }
    }

    /// <summary>
    /// Appends <paramref name="tokens"/> to the session and writes logits: [vocab] for the last token,
    /// or [tokens, vocab] for all of them; and, with <paramref name="hiddenStates"/>, every token's final hidden state.
    /// </summary>
    public void Forward(ReadOnlySpan<int> tokens, ModelSession session, Span<float> logits, LogitsFor mode = LogitsFor.LastToken,
        Span<float> hiddenStates = default)
    {
        if (tokens.IsEmpty) throw new ArgumentException("at least one token is needed", nameof(tokens));
        if (session.Length + tokens.Length > session.ContextLength)
            throw new ContextLimitException(
                $"{tokens.Length} new tokens after {session.Length} cached ones exceed the context of {session.ContextLength} tokens");
        var batch = session.Batch;
        batch.Clear();
        Span<int> position = stackalloc int[Rope.PositionComponents];
        for (int i = 0; i < tokens.Length; i++)
        {
            Rope.TextPosition(session.Length + i, position);
            batch.Add(tokens[i], session.Sequence, position, mode == LogitsFor.AllTokens || i == tokens.Length - 1);
        }
        Decode(batch, session.Context, logits, hiddenStates);
    }

    public void Dispose() => _weights.Dispose();
}
