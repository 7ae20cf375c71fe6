using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Threading.Channels;
using GlmSharp.Batching;
using GlmSharp.Errors;
using GlmSharp.Inference;
using GlmSharp.Kernels;
using GlmSharp.Models;
using GlmSharp.Tokenizers;
using GlmSharp.Vision;

namespace GlmSharp.Serving;

/// <summary>How a <see cref="ContinuousBatcher"/> shares the model between requests.</summary>
public sealed record BatcherOptions
{
    /// <summary>Requests decoded together at most; more wait in a queue.</summary>
    public int MaxSequences { get; init; } = 8;

    /// <summary>Most positions one request may hold, prompt and output together.</summary>
    public int ContextLength { get; init; } = 4096;

    /// <summary>KV cache positions all requests share (in blocks of <see cref="CausalLm.DefaultBlockPositions"/>).</summary>
    public int CachePositions { get; init; } = 16_384;

    /// <summary>Rows per step: every decoding request's row first, then prompt chunks of the others in the rest.</summary>
    public int StepTokens { get; init; } = 256;

    public KvCacheType CacheType { get; init; } = KvCacheType.F16;

    /// <summary>Finished requests whose KV is kept for later requests that start the same way; 0 turns reuse off.</summary>
    public int PrefixCacheEntries { get; init; } = 64;
}

/// <summary>
/// Continuous batching over one model: requests join and leave the running batch at every step. A step holds one row
/// per decoding request and fills the rest of its token budget with prompt chunks of newly admitted ones, so a long
/// prompt neither stalls the others' decoding nor runs alone. When the shared KV cache cannot hold a step, the request
/// admitted last gives its blocks back and waits to be recomputed from its tokens (its sampler state is kept, so its
/// output is what it would have been). A cancelled request's blocks are freed at the next step. A finished request's
/// KV stays in a <see cref="PrefixCache"/> until its blocks are needed, and a request that starts with the same tokens
/// begins after them. One thread runs the steps; requests come from any thread.
/// </summary>
public sealed class ContinuousBatcher : ITextGenerationService
{
    private readonly CausalLm _model;
    private readonly BpeTokenizer _tokenizer;
    private readonly IReadOnlyList<int> _defaultStopIds;
    private readonly BatcherOptions _options;
    private readonly ModelContext _context;
    private readonly Batch _batch;
    private readonly float[] _logits;
    private readonly ConcurrentQueue<BatchedRequest> _incoming = new();
    private readonly SemaphoreSlim _wake = new(0);
    private readonly List<BatchedRequest> _waiting = [], _running = [];

    /// <summary>The running requests in the order a step lays out their rows: decoding ones first, then prompt chunks.</summary>
    private readonly List<BatchedRequest> _stepOrder = [];
    private readonly PrefixCache _prefixes;
    private readonly List<int> _runningSequences = [];
    private volatile int _idlePrefixBlocks;

    /// <summary>The logits of a row before the sampler changes them, for requests that ask for log-probabilities.</summary>
    private readonly float[] _rawLogits;
    private readonly Thread _loop;
    private volatile bool _stopping;

    public ContinuousBatcher(LoadedModel model, BatcherOptions options)
    {
        _model = model.Model;
        _tokenizer = model.Tokenizer ?? throw new UnsupportedModelException($"{model.Path}: the model has no tokenizer, so it cannot serve text");
        _defaultStopIds = model.StopTokenIds;
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxSequences, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.StepTokens, options.MaxSequences);
        if (options.ContextLength < 2 || options.ContextLength > model.Config.MaxPositions)
            throw new ContextLimitException($"context length {options.ContextLength} is outside 2..{model.Config.MaxPositions} (max_position_embeddings of {model.Path})");
        _options = options;
        _context = _model.CreateContext(Math.Max(options.CachePositions, options.ContextLength), options.StepTokens, options.CacheType);
        _prefixes = new PrefixCache(_context.Cache, options.PrefixCacheEntries);
        _batch = new Batch(options.StepTokens, _model.Rope.PositionComponents);
        _logits = new float[options.MaxSequences * model.Config.VocabSize];
        _rawLogits = new float[model.Config.VocabSize];
        _loop = new Thread(Run) { IsBackground = true, Name = "glm-batcher" };
        _loop.Start();
    }

    /// <summary>Requests waiting for a place in the batch.</summary>
    public int Waiting => _waiting.Count + _incoming.Count;

    /// <summary>Requests in the running batch.</summary>
    public int Running => _running.Count;

    /// <summary>Times a request gave its cache back because a step did not fit.</summary>
    public int Preemptions { get; private set; }

    public int ContextLength => _options.ContextLength;

    public KvBlockPoolUse CacheUse
    {
        get
        {
            int idle = _idlePrefixBlocks;
            return new(_context.Pool.UsedBlocks - idle, _context.Pool.BlockCount, _context.Pool.BlockPositions, idle);
        }
    }

    /// <summary>
    /// Queues a request and streams its continuation; the last chunk carries the finish reason. Cancelling
    /// <paramref name="cancellationToken"/> ends the stream and frees the request's cache at the next step.
    /// </summary>
    public IAsyncEnumerable<GenerationChunk> GenerateAsync(IReadOnlyList<int> prompt, GenerationOptions options, CancellationToken cancellationToken = default) =>
        Enqueue(prompt, null, options, cancellationToken);

    /// <summary>
    /// As <see cref="GenerateAsync(IReadOnlyList{int}, GenerationOptions, CancellationToken)"/> for a prompt that may hold
    /// images. Only its text before the first image is shared with the prefix cache: image rows carry one token id for
    /// every image, so their keys would not tell two images apart.
    /// </summary>
    public IAsyncEnumerable<GenerationChunk> GenerateAsync(MultimodalPrompt prompt, GenerationOptions options, CancellationToken cancellationToken = default) =>
        Enqueue(prompt.Tokens, prompt.ImageCount > 0 ? prompt : null, options, cancellationToken);

    private IAsyncEnumerable<GenerationChunk> Enqueue(IReadOnlyList<int> prompt, MultimodalPrompt? images, GenerationOptions options, CancellationToken cancellationToken)
    {
        if (prompt.Count == 0) throw new ArgumentException("the prompt is empty", nameof(prompt));
        if (prompt.Count >= _options.ContextLength)
            throw new ContextLimitException($"the prompt has {prompt.Count} tokens, the context holds {_options.ContextLength}; shorten the prompt or raise the context length");
        ArgumentOutOfRangeException.ThrowIfNegative(options.MaxTokens);
        if (options.TopLogprobs is < 0 or > TokenLogprobs.MaxTop)
            throw new ArgumentOutOfRangeException(nameof(options), options.TopLogprobs, $"TopLogprobs must be 0 to {TokenLogprobs.MaxTop}");
        ObjectDisposedException.ThrowIf(_stopping, this);
        var request = new BatchedRequest(prompt, options, new Sampler(options.Sampling, _model.Config.VocabSize),
            new GenerationOutput(_tokenizer, options, _defaultStopIds), options.JsonObject ? new JsonObjectConstraint(_tokenizer) : null) { PromptWithImages = images };
        request.Cancellation = cancellationToken.Register(() =>
        {
            request.Cancelled = true;
            _wake.Release();
        });
        _incoming.Enqueue(request);
        _wake.Release();
        return request.Output.Reader.ReadAllAsync(cancellationToken);
    }

    private void Run()
    {
        while (!_stopping)
        {
            Admit();
            if (_running.Count == 0)
            {
                CountIdlePrefixBlocks();
                _wake.Wait();
                continue;
            }
            try
            {
                Step();
            }
            catch (KvCacheFullException) when (_prefixes.Count > 0 || _running.Count > 1)
            {
                if (!_prefixes.EvictOldest()) Preempt(_running[^1]);
            }
            catch (Exception e)
            {
                foreach (var request in _running.ToArray()) Finish(request, error: e);
            }
            CountIdlePrefixBlocks();
        }
        foreach (var request in _running.Concat(_waiting).ToArray()) Finish(request, error: new ObjectDisposedException(nameof(ContinuousBatcher)));
    }

    /// <summary>
    /// Takes new requests, drops cancelled ones, and moves waiting requests into free places of the batch while the
    /// cache has blocks for all their tokens and one more for each running request to grow into.
    /// </summary>
    private void Admit()
    {
        while (_incoming.TryDequeue(out var request))
        {
            if (request.Options.MaxTokens == 0) Finish(request, FinishReason.Length);
            else _waiting.Add(request);
        }
        foreach (var request in _running.Concat(_waiting).Where(r => r.Cancelled).ToArray()) Finish(request, error: new OperationCanceledException());
        int blockPositions = _context.Pool.BlockPositions;
        while (_running.Count < _options.MaxSequences && _waiting.Count > 0)
        {
            var request = _waiting[0];
            int needed = (request.History.Count + blockPositions) / blockPositions + _running.Count;
            while (_running.Count > 0 && _context.Pool.FreeBlocks < needed && _prefixes.EvictOldest()) { }
            if (_running.Count > 0 && _context.Pool.FreeBlocks < needed) break;
            _waiting.RemoveAt(0);
            int sharable = request.SharableRows;
            (request.Sequence, request.Fed) = sharable > 0 ? _prefixes.Open(CollectionsMarshal.AsSpan(request.History)[..sharable]) : (_context.Cache.CreateSequence(), 0);
            if (request.Produced == 0) request.CachedPromptTokens = request.Fed;
            _running.Add(request);
        }
    }

    private void Step()
    {
        _batch.Clear();
        _stepOrder.Clear();
        foreach (var request in _running) if (request.History.Count - request.Fed == 1) _stepOrder.Add(request);
        foreach (var request in _running) if (request.History.Count - request.Fed > 1) _stepOrder.Add(request);
        int budget = _options.StepTokens;
        foreach (var request in _stepOrder)
        {
            int rows = Math.Min(budget, request.History.Count - request.Fed);
            request.RowsInStep = rows;
            if (rows == 0) continue;
            AddRows(request, request.Fed, rows, logitsForLast: request.Fed + rows == request.History.Count);
            budget -= rows;
        }
        _model.Decode(_batch, _context, _logits);

        int vocab = _model.Config.VocabSize, logitRow = 0;
        foreach (var request in _stepOrder)
        {
            if (request.RowsInStep == 0) continue;
            request.Fed += request.RowsInStep;
            request.RowsInStep = 0;
            if (request.Fed == request.History.Count) Sample(request, _logits.AsSpan(logitRow++ * vocab, vocab));
        }
    }

    /// <summary>
    /// Rows [start, start + count) of the request: its prompt's own rows (images, M-RoPE positions) while they last, then
    /// its tokens at their cache index shifted by the prompt's rope delta.
    /// </summary>
    private void AddRows(BatchedRequest request, int start, int count, bool logitsForLast)
    {
        int end = start + count;
        if (request.PromptWithImages is { } prompt && start < prompt.Length)
        {
            int promptRows = Math.Min(end, prompt.Length) - start;
            prompt.AddRows(_batch, request.Sequence, start, promptRows, _model.Rope, _model.Origin, logitsForLast && start + promptRows == end);
            start += promptRows;
        }
        int offset = request.PromptWithImages is { } shifted ? shifted.NextPosition - shifted.Length : 0;
        Span<int> position = stackalloc int[_model.Rope.PositionComponents];
        for (int i = start; i < end; i++)
        {
            _model.Rope.TextPosition(i + offset, position);
            _batch.Add(request.History[i], request.Sequence, position, logitsForLast && i == end - 1);
        }
    }

    private void Sample(BatchedRequest request, Span<float> logits)
    {
        if (request.Options.TopLogprobs is not null) logits.CopyTo(_rawLogits);
        request.Constraint?.Mask(logits);
        int next = request.Sampler.Sample(logits, CollectionsMarshal.AsSpan(request.History));
        if (request.Text.IsStopToken(next))
        {
            Finish(request, FinishReason.Stop);
            return;
        }
        request.Constraint?.Advance(next);
        request.History.Add(next);
        request.Produced++;
        var chunk = request.Text.Token(next);
        if (request.Options.TopLogprobs is { } top) chunk = chunk with { Logprobs = TokenLogprobs.Of(_rawLogits, next, top) };
        request.Output.Writer.TryWrite(chunk);
        if (request.Text.Stopped || request.Constraint?.IsComplete == true) Finish(request, FinishReason.Stop);
        else if (request.Produced >= request.Options.MaxTokens) Finish(request, FinishReason.Length);
        else if (request.History.Count >= _options.ContextLength) Finish(request, FinishReason.ContextFull);
    }

    private void CountIdlePrefixBlocks()
    {
        _runningSequences.Clear();
        foreach (var request in _running) _runningSequences.Add(request.Sequence);
        _idlePrefixBlocks = _prefixes.IdleBlocks(_runningSequences);
    }

    /// <summary>Gives the request's blocks back and queues it first, to be fed its tokens again when there is room.</summary>
    private void Preempt(BatchedRequest request)
    {
        _context.Cache.Free(request.Sequence);
        Preemptions++;
        _running.Remove(request);
        _waiting.Insert(0, request);
    }

    private void Finish(BatchedRequest request, FinishReason reason = FinishReason.Stop, Exception? error = null)
    {
        if (_running.Remove(request))
        {
            // The cache holds exactly the fed tokens unless the step that failed left it part-written.
            if (error is null or OperationCanceledException)
            {
                int kept = Math.Min(request.Fed, request.SharableRows);
                if (kept < request.Fed) _context.Cache.Truncate(request.Sequence, kept);
                _prefixes.Retire(request.Sequence, CollectionsMarshal.AsSpan(request.History)[..kept]);
            }
            else _context.Cache.Free(request.Sequence);
        }
        _waiting.Remove(request);
        if (error is null) request.Output.Writer.TryWrite(request.Text.Finish(reason) with { CachedPromptTokens = request.CachedPromptTokens });
        request.Output.Writer.TryComplete(error);
        request.Cancellation.Dispose();
    }

    public void Dispose()
    {
        _stopping = true;
        _wake.Release();
        _loop.Join();
        _context.Dispose();
        _wake.Dispose();
    }
}

/// <summary>
/// How much of the shared KV cache is in use: blocks running requests hold, and blocks only the prefix cache holds
/// (finished requests' KV, given back whenever a request needs room).
/// </summary>
public readonly record struct KvBlockPoolUse(int UsedBlocks, int Blocks, int BlockPositions, int PrefixBlocks = 0)
{
    /// <summary>The share of the blocks in use, 0 to 1 (0 for an engine without a cache).</summary>
    public double UsedShare => Blocks == 0 ? 0 : (double)UsedBlocks / Blocks;

    /// <summary>The share of the blocks only the prefix cache holds, 0 to 1.</summary>
    public double PrefixShare => Blocks == 0 ? 0 : (double)PrefixBlocks / Blocks;
}

/// <summary>One request's state in the batcher: its tokens so far, how many the cache holds, its sampler and its stream.</summary>
internal sealed class BatchedRequest(IReadOnlyList<int> prompt, GenerationOptions options, Sampler sampler, GenerationOutput text, JsonObjectConstraint? constraint)
{
    public List<int> History { get; } = [.. prompt];
    public GenerationOptions Options { get; } = options;
    public Sampler Sampler { get; } = sampler;
    public GenerationOutput Text { get; } = text;
    public JsonObjectConstraint? Constraint { get; } = constraint;
    public Channel<GenerationChunk> Output { get; } = Channel.CreateUnbounded<GenerationChunk>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    public CancellationTokenRegistration Cancellation { get; set; }
    public volatile bool Cancelled;
    public int Sequence { get; set; } = -1;
    public int Fed { get; set; }
    public int RowsInStep { get; set; }
    public int Produced { get; set; }

    /// <summary>Prompt positions taken from the prefix cache when the request was admitted.</summary>
    public int CachedPromptTokens { get; set; }

    /// <summary>The prompt's rows when it holds images (its token list alone cannot feed them), else null.</summary>
    public MultimodalPrompt? PromptWithImages { get; init; }

    /// <summary>
    /// Leading rows whose token ids say all about them, so the prefix cache may match and keep them: all of a text
    /// request, and the text before the first image of one with images.
    /// </summary>
    public int SharableRows => PromptWithImages is { } prompt ? prompt.RowKeys.TakeWhile(key => key >= 0).Count() : History.Count;
}
