using System.Runtime.CompilerServices;
using GlmSharp.Errors;
using GlmSharp.Kernels;
using GlmSharp.Models;
using GlmSharp.Tokenizers;
using GlmSharp.Vision;

namespace GlmSharp.Inference;

/// <summary>
/// Runs a model token by token over one <see cref="ModelSession"/>. The session keeps its KV cache between calls,
/// so a conversation only pays for the tokens it adds (the longest common prefix with the cache is reused).
/// Disposing it frees the session's cache.
/// </summary>
public sealed class Generator : IDisposable
{
    private readonly CausalLm _model;
    private readonly BpeTokenizer _tokenizer;
    private readonly IReadOnlyList<int> _defaultStopIds;
    private readonly float[] _logits;
    /// <summary>The <see cref="MultimodalPrompt.RowKeys"/> of what the session's cache holds, row by row.</summary>
    private readonly List<long> _cachedRows = [];

    public ModelSession Session { get; }

    public Generator(LoadedModel model, int? contextLength = null, KvCacheType cacheType = KvCacheType.F16)
    {
        _model = model.Model;
        _tokenizer = model.Tokenizer ?? throw new UnsupportedModelException($"{model.Path}: the model has no tokenizer, so it cannot generate text (token ids still work with `glm logits`)");
        _defaultStopIds = model.StopTokenIds;
        Session = _model.CreateSession(contextLength ?? Math.Min(model.Config.MaxPositions, 4096), cacheType: cacheType);
        _logits = new float[model.Config.VocabSize];
    }

    /// <summary>Streams the continuation of <paramref name="prompt"/>; the last chunk carries the finish reason.</summary>
    public IAsyncEnumerable<GenerationChunk> GenerateAsync(IReadOnlyList<int> prompt, GenerationOptions options, CancellationToken cancellationToken = default) =>
        GenerateAsync(MultimodalPrompt.Text(prompt), options, cancellationToken);

    /// <summary>
    /// Streams the continuation of a prompt whose rows may hold images. Generated tokens continue from the prompt's next
    /// M-RoPE position, which an image moves on by max(rows, cols) rather than by its token count.
    /// </summary>
    public async IAsyncEnumerable<GenerationChunk> GenerateAsync(MultimodalPrompt prompt, GenerationOptions options,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        if (prompt.Length == 0) throw new ArgumentException("the prompt is empty", nameof(prompt));
        if (prompt.Length >= Session.ContextLength)
            throw new ContextLimitException($"the prompt has {prompt.Length} tokens, the context holds {Session.ContextLength}; shorten the prompt or raise the context length");
        ArgumentOutOfRangeException.ThrowIfNegative(options.MaxTokens);
        var sampler = new Sampler(options.Sampling, _model.Config.VocabSize);
        var output = new GenerationOutput(_tokenizer, options, _defaultStopIds);
        var history = new List<int>(prompt.Tokens);

        await Task.Yield();
        Prefill(prompt, cancellationToken);
        int positionOffset = prompt.NextPosition - prompt.Length;

        FinishReason finish = FinishReason.Length;
        for (int produced = 0; produced < options.MaxTokens; produced++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int next = sampler.Sample(_logits, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(history));
            if (output.IsStopToken(next))
            {
                finish = FinishReason.Stop;
                break;
            }
            history.Add(next);
            yield return output.Token(next);
            if (output.Stopped) break;
            if (Session.Length >= Session.ContextLength)
            {
                finish = FinishReason.ContextFull;
                break;
            }
            if (produced + 1 < options.MaxTokens) Append(next, positionOffset);
        }
        yield return output.Finish(finish);
    }

    /// <summary>Feeds the prompt, reusing whatever prefix of its rows the cache already holds.</summary>
    private void Prefill(MultimodalPrompt prompt, CancellationToken cancellationToken)
    {
        int common = 0;
        while (common < _cachedRows.Count && common < prompt.Length - 1 && _cachedRows[common] == prompt.RowKeys[common]) common++;
        Session.Truncate(common);
        _cachedRows.RemoveRange(common, _cachedRows.Count - common);
        cancellationToken.ThrowIfCancellationRequested();
        var batch = Session.Batch;
        batch.Clear();
        prompt.AddRows(batch, Session.Sequence, common, prompt.Length - common, _model.Rope, _model.Origin);
        _model.Decode(batch, Session.Context, _logits);
        _cachedRows.AddRange(prompt.RowKeys.Skip(common));
    }

    /// <summary>Feeds one generated token at its cache index shifted by <paramref name="positionOffset"/> (M-RoPE's rope delta).</summary>
    private void Append(int token, int positionOffset)
    {
        var batch = Session.Batch;
        batch.Clear();
        Span<int> position = stackalloc int[_model.Rope.PositionComponents];
        _model.Rope.TextPosition(Session.Length + positionOffset, position);
        batch.Add(token, Session.Sequence, position, wantsLogits: true);
        _model.Decode(batch, Session.Context, _logits);
        _cachedRows.Add(token);
    }

    public void Dispose() => Session.Dispose();
}
