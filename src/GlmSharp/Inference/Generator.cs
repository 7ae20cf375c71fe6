using System.Runtime.CompilerServices;
using GlmSharp.Errors;
using GlmSharp.Kernels;
using GlmSharp.Models;
using GlmSharp.Tokenizers;

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
    private readonly List<int> _cachedTokens = [];

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
    public async IAsyncEnumerable<GenerationChunk> GenerateAsync(IReadOnlyList<int> prompt, GenerationOptions options,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        if (prompt.Count == 0) throw new ArgumentException("the prompt is empty", nameof(prompt));
        if (prompt.Count >= Session.ContextLength)
            throw new ContextLimitException($"the prompt has {prompt.Count} tokens, the context holds {Session.ContextLength}; shorten the prompt or raise the context length");
        ArgumentOutOfRangeException.ThrowIfNegative(options.MaxTokens);
        var sampler = new Sampler(options.Sampling, _model.Config.VocabSize);
        var output = new GenerationOutput(_tokenizer, options, _defaultStopIds);
        var history = new List<int>(prompt);

        await Task.Yield();
        Prefill(prompt, cancellationToken);

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
            if (produced + 1 < options.MaxTokens) Append([next]);
        }
        yield return output.Finish(finish);
    }

    /// <summary>Feeds the prompt, reusing whatever prefix of it the cache already holds.</summary>
    private void Prefill(IReadOnlyList<int> prompt, CancellationToken cancellationToken)
    {
        int common = 0;
        while (common < _cachedTokens.Count && common < prompt.Count - 1 && _cachedTokens[common] == prompt[common]) common++;
        Session.Truncate(common);
        _cachedTokens.RemoveRange(common, _cachedTokens.Count - common);
        cancellationToken.ThrowIfCancellationRequested();
        var rest = prompt.Skip(common).ToArray();
        Append(rest);
    }

    private void Append(int[] tokens)
    {
        _model.Forward(tokens, Session, _logits);
        _cachedTokens.AddRange(tokens);
    }

    public void Dispose() => Session.Dispose();
}
