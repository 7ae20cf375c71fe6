using GlmSharp.Configs;
using GlmSharp.Errors;
using GlmSharp.Kernels;
using GlmSharp.Kernels.Paging;
using GlmSharp.Models.Blocks;
using GlmSharp.Tensors;

namespace GlmSharp.Models;

/// <summary>
/// A multi-token-prediction (NextN) layer, as DeepSeek-V3 introduced it and GLM-4.5, GLM-4.7-Flash and GLM-5 ship one
/// after their main stack.
/// Row p combines the main model's final hidden state h_p (after its final norm, as vLLM feeds it) with the token
/// t_{p+1} that followed, and predicts t_{p+2}:
///   z = eh_proj([enorm(embed(t_{p+1})) ; hnorm(h_p)])  →  one decoder layer, with a KV cache of its own
///   logits = shared_head.head(shared_head.norm(z))
/// The layer's own embedding and head are optional in checkpoints; without them it shares the main model's.
/// The main forward pass never runs it: it drafts for speculative decoding.
/// </summary>
public sealed class MtpLayer
{
    private readonly IComputeBackend _backend;
    private readonly ModelConfig _config;
    private readonly TensorView _embedding;
    private readonly RmsNorm _embeddingNorm, _hiddenNorm;
    private readonly Linear _projection;
    private readonly IDecoderLayer _layer;
    private readonly LogitHead _head;

    /// <param name="weights">The layer's weights: <c>model.layers.{num_hidden_layers}</c>.</param>
    public MtpLayer(WeightBuilder weights, IComputeBackend backend, ModelConfig config, IDecoderLayer layer, TensorView mainEmbedding, Linear mainHead)
    {
        int h = config.HiddenSize;
        _backend = backend;
        _config = config;
        _layer = layer;
        _embedding = weights.Has("embed_tokens.weight") ? weights.Matrix("embed_tokens.weight", config.VocabSize, h) : mainEmbedding;
        _embeddingNorm = RmsNorm.Load(weights, backend, "enorm", h, config.RmsNormEps);
        _hiddenNorm = RmsNorm.Load(weights, backend, "hnorm", h, config.RmsNormEps);
        _projection = Linear.Load(weights, backend, "eh_proj", 2 * h, h);
        var shared = weights.At("shared_head");
        var head = shared.Has("head.weight") ? Linear.Load(shared, backend, "head", h, config.VocabSize) : mainHead;
        _head = new LogitHead(backend, RmsNorm.Load(shared, backend, "norm", h, config.RmsNormEps), head);
    }

    /// <summary>
    /// Builds the first multi-token-prediction layer of a checkpoint, <c>model.layers.{num_hidden_layers}</c>, around the
    /// architecture's own decoder layer at that index, for <see cref="CausalLm.NextN"/>; null when the config has none.
    /// </summary>
    public static Func<TensorView, Linear, MtpLayer?> After(ModelConfig config, WeightBuilder weights, Func<WeightBuilder, int, IDecoderLayer> layer) =>
        (mainEmbedding, mainHead) =>
        {
            if (config is not INextNConfig { NextNLayers: > 0 }) return null;
            var w = weights.At("model").At("layers").At(config.NumLayers);
            return new MtpLayer(w, weights.Backend, config, layer(w, config.NumLayers), mainEmbedding, mainHead);
        };

    /// <summary>A sequence of the layer's own, whose position p holds the row made from the main model's position p.</summary>
    public MtpSession CreateSession(int contextLength, KvCacheType cacheType = KvCacheType.F16, int maxBatchRows = CausalLm.DefaultBatchRows)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(contextLength, 1);
        int rows = Math.Min(maxBatchRows, contextLength);
        int blocks = (contextLength + CausalLm.DefaultBlockPositions - 1) / CausalLm.DefaultBlockPositions;
        var context = ModelContext.Create(_backend, _config, new KvBlockPool([_layer.CacheSpec], blocks, CausalLm.DefaultBlockPositions, cacheType, _backend),
            rows, contextLength);
        try
        {
            return new MtpSession(new ModelSession(context, contextLength, positionComponents: 1), _backend.Allocate<float>(checked(rows * 2 * _config.HiddenSize)));
        }
        catch
        {
            context.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Appends one row per token to <paramref name="mtp"/>: token i is t_{p+1} and row i of <paramref name="hiddenStates"/>
    /// ([tokens, hidden]) is h_p, for the next positions p. Writes the logits of the last row (or of all rows), and
    /// with <paramref name="lastHidden"/> the last row's output z, which stands in for h at the next position when
    /// drafts are chained.
    /// </summary>
    public void Forward(ReadOnlySpan<int> nextTokens, ReadOnlySpan<float> hiddenStates, MtpSession mtp, Span<float> logits,
        LogitsFor mode = LogitsFor.LastToken, Span<float> lastHidden = default)
    {
        int count = nextTokens.Length, h = _config.HiddenSize, vocab = _config.VocabSize;
        var session = mtp.Session;
        if (count == 0) throw new ArgumentException("at least one token is needed", nameof(nextTokens));
        if (hiddenStates.Length != count * h)
            throw new ArgumentException($"{count} rows need {count * h} hidden-state values, {hiddenStates.Length} given", nameof(hiddenStates));
        if (session.Length + count > session.ContextLength)
            throw new ContextLimitException($"{count} new rows after {session.Length} cached ones exceed the context of {session.ContextLength} of the multi-token-prediction layer");
        int wanted = mode == LogitsFor.AllTokens ? count : 1;
        if (logits.Length < wanted * vocab) throw new ArgumentException($"logits buffer holds {logits.Length} values, {wanted * vocab} needed", nameof(logits));

        var batch = session.Batch;
        batch.Clear();
        for (int i = 0; i < count; i++) batch.Add(nextTokens[i], session.Sequence, session.Length + i, mode == LogitsFor.AllTokens || i == count - 1);
        var context = session.Context;
        context.Plan.Prepare(batch, context.Cache, vocab, context.MaxSequenceLength, "the multi-token-prediction layer");
        var scratch = context.Scratch;
        int written = 0;
        for (int start = 0; start < count; start += scratch.MaxRows)
        {
            int rows = Math.Min(scratch.MaxRows, count - start);
            var x = scratch.Hidden(rows);
            var normed = scratch.Normed(rows);
            var concatenated = mtp.Concatenated.Take(rows * 2 * h);
            _backend.GatherRows(_embedding, batch.Tokens.Slice(start, rows), x);
            _embeddingNorm.Apply(x, normed, rows);
            CopyIntoHalf(normed, concatenated, rows, h, half: 0);
            var previous = scratch.Projected(rows);
            _backend.Upload(hiddenStates.Slice(start * h, rows * h), previous);
            _hiddenNorm.Apply(previous, normed, rows);
            CopyIntoHalf(normed, concatenated, rows, h, half: 1);
            _projection.Forward(concatenated, x, rows);

            var step = new ForwardStep(rows, batch.Positions.Slice(start, rows), context.Plan.Rows(start, rows), scratch);
            _layer.Forward(x, step, new LayerCache(context.Pool, 0));
            if (!lastHidden.IsEmpty && start + rows == count) _backend.Download(x.Slice((rows - 1) * h, h), lastHidden[..h]);
            written += _head.Write(x, rows, batch.WantsLogits.Slice(start, rows), scratch, logits.Slice(written * vocab));
        }
        GC.KeepAlive(context);
    }

    /// <summary>Rows of <paramref name="source"/> ([rows, h]) into the first or second half of each [rows, 2h] row.</summary>
    private void CopyIntoHalf(DeviceSpan<float> source, DeviceSpan<float> target, int rows, int h, int half)
    {
        for (int r = 0; r < rows; r++) _backend.Copy(source.Slice(r * h, h), target.Slice((2 * r + half) * h, h));
    }
}

/// <summary>The multi-token-prediction layer's sequence and its [rows, 2·hidden] input buffer; dispose it to return both.</summary>
public sealed class MtpSession(ModelSession session, DeviceSpan<float> concatenated) : IDisposable
{
    public ModelSession Session { get; } = session;
    internal DeviceSpan<float> Concatenated { get; } = concatenated;

    /// <summary>Rows held: the main model's positions it has seen.</summary>
    public int Length => Session.Length;

    public void Truncate(int length) => Session.Truncate(length);

    public void Dispose()
    {
        Session.Dispose();
        Concatenated.Memory.Dispose();
    }
}
