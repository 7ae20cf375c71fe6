using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using GlmSharp.Errors;
using GlmSharp.Kernels;
using GlmSharp.Models;

namespace GlmSharp.Inference;

/// <summary>How a speculative generation went: verification steps, tokens drafted, drafts the target kept.</summary>
public sealed record SpeculationStats(int Steps, int Drafted, int Accepted)
{
    public double AcceptanceRate => Drafted == 0 ? 0 : (double)Accepted / Drafted;

    /// <summary>Tokens produced per target step: the kept drafts plus the one the target adds each step.</summary>
    public double TokensPerStep => Steps == 0 ? 0 : (double)(Accepted + Steps) / Steps;
}

/// <summary>
/// Speculative decoding: a drafter proposes <c>k</c> tokens (<see cref="ISpeculativeDrafter"/>: a small model with the
/// same vocabulary, or the target's own multi-token-prediction layer), the target checks all of them in one step
/// (k + 1 rows of the same sequence), and the longest prefix the target agrees with is kept, plus one token from the
/// target (<see cref="SpeculativeAcceptance"/>). Greedy output is exactly the target's greedy output; sampled output
/// keeps the target's distribution. Each step costs the target one batched step instead of up to k + 1 single-token ones.
/// </summary>
public sealed class SpeculativeGenerator : IDisposable
{
    public const int MaxDraftTokens = 16;

    private readonly LoadedModel _target;
    private readonly ISpeculativeDrafter _drafter;
    private readonly int _draftTokens, _vocab, _hiddenSize;
    private readonly float[] _targetLogits, _stepHidden, _targetProbabilities, _residual;
    private readonly float[][] _draftProbabilities;

    public ModelSession TargetSession { get; }
    public SpeculationStats Stats { get; private set; } = new(0, 0, 0);

    /// <summary>Speculation with a draft model, which must share the target's vocabulary.</summary>
    public SpeculativeGenerator(LoadedModel target, LoadedModel draft, int draftTokens, int? contextLength = null, KvCacheType cacheType = KvCacheType.F16)
        : this(target, context => new DraftModelDrafter(draft, target, context, cacheType), draftTokens, contextLength, cacheType)
    {
    }

    /// <summary>Self-speculation with the target's own multi-token-prediction layer (<see cref="CausalLm.NextN"/>).</summary>
    public static SpeculativeGenerator WithNextN(LoadedModel target, int draftTokens, int? contextLength = null, KvCacheType cacheType = KvCacheType.F16) =>
        new(target, context => new NextNDrafter(target, context, cacheType), draftTokens, contextLength, cacheType);

    private SpeculativeGenerator(LoadedModel target, Func<int, ISpeculativeDrafter> drafter, int draftTokens, int? contextLength, KvCacheType cacheType)
    {
        if (target.Tokenizer is null) throw new UnsupportedModelException($"{target.Path}: the model has no tokenizer, so it cannot generate text");
        if (draftTokens < 1 || draftTokens > MaxDraftTokens)
            throw new ArgumentOutOfRangeException(nameof(draftTokens), draftTokens, $"draft tokens must be from 1 to {MaxDraftTokens}");
        _target = target;
        _draftTokens = draftTokens;
        _vocab = target.Config.VocabSize;
        _hiddenSize = target.Config.HiddenSize;
        int context = contextLength ?? Math.Min(target.Config.MaxPositions, 4096);
        TargetSession = target.Model.CreateSession(context, cacheType: cacheType);
        try
        {
            _drafter = drafter(context);
        }
        catch
        {
            TargetSession.Dispose();
            throw;
        }
        _targetLogits = new float[(draftTokens + 1) * _vocab];
        _stepHidden = new float[(draftTokens + 1) * _hiddenSize];
        _targetProbabilities = new float[_vocab];
        _residual = new float[_vocab];
        _draftProbabilities = [.. Enumerable.Range(0, draftTokens).Select(_ => new float[_vocab])];
    }

    public async IAsyncEnumerable<GenerationChunk> GenerateAsync(IReadOnlyList<int> prompt, GenerationOptions options,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        if (prompt.Count == 0) throw new ArgumentException("the prompt is empty", nameof(prompt));
        int context = Math.Min(TargetSession.ContextLength, _drafter.ContextLength);
        if (prompt.Count >= context)
            throw new ContextLimitException($"the prompt has {prompt.Count} tokens, the context holds {context}; shorten the prompt or raise the context length");
        ArgumentOutOfRangeException.ThrowIfNegative(options.MaxTokens);
        var targetSampler = new Sampler(options.Sampling, _vocab);
        var draftSampler = new Sampler(options.Sampling with { Seed = options.Sampling.Seed + 1 }, _vocab);
        var output = new GenerationOutput(_target.Tokenizer!, options, _target.StopTokenIds);
        var history = new List<int>(prompt);
        var drafts = new List<int>(_draftTokens);
        Stats = new SpeculationStats(0, 0, 0);

        await Task.Yield();
        TargetSession.Truncate(0);
        _drafter.Reset();
        if (prompt.Count > 1)
        {
            var head = prompt.Take(prompt.Count - 1).ToArray();
            var headHidden = new float[head.Length * _hiddenSize];
            _target.Model.Forward(head, TargetSession, _targetLogits, hiddenStates: headHidden);
            _drafter.Commit(history, headHidden, head.Length);
        }

        FinishReason finish = FinishReason.Length;
        int produced = 0;
        while (produced < options.MaxTokens)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int k = Math.Min(_draftTokens, Math.Min(options.MaxTokens - produced - 1, context - TargetSession.Length - 2));
            _drafter.Draft(Math.Max(k, 0), history, drafts, _draftProbabilities, draftSampler);

            int targetBase = TargetSession.Length;
            int[] rows = [history[^1], .. drafts];
            _target.Model.Forward(rows, TargetSession, _targetLogits, LogitsFor.AllTokens, _stepHidden.AsSpan(0, rows.Length * _hiddenSize));
            var (accepted, next) = Verify(drafts, history, targetSampler);
            Stats = new SpeculationStats(Stats.Steps + 1, Stats.Drafted + drafts.Count, Stats.Accepted + accepted);

            foreach (int token in drafts.Take(accepted).Append(next))
            {
                if (output.IsStopToken(token))
                {
                    finish = FinishReason.Stop;
                    goto Done;
                }
                history.Add(token);
                produced++;
                yield return output.Token(token);
                if (output.Stopped) goto Done;
                if (produced >= options.MaxTokens) goto Done;
            }

            TargetSession.Truncate(targetBase + 1 + accepted);
            _drafter.Commit(history, _stepHidden.AsSpan(0, (accepted + 1) * _hiddenSize), accepted + 1);
            if (TargetSession.Length + 1 >= context)
            {
                finish = FinishReason.ContextFull;
                break;
            }
        }
    Done:
        yield return output.Finish(finish);
    }

    /// <summary>
    /// How many drafts the target keeps, and the token it adds after them. Row i of the target's logits predicts draft
    /// i's position; the history each row is sampled after is the known tokens and the drafts before it (appended to
    /// <paramref name="history"/> for the check, removed after).
    /// </summary>
    private (int Accepted, int Next) Verify(List<int> drafts, List<int> history, Sampler sampler)
    {
        int known = history.Count;
        history.AddRange(drafts);
        try
        {
            for (int i = 0; i < drafts.Count; i++)
            {
                sampler.Probabilities(_targetLogits.AsSpan(i * _vocab, _vocab), CollectionsMarshal.AsSpan(history)[..(known + i)], _targetProbabilities);
                if (!SpeculativeAcceptance.Accept(drafts[i], _targetProbabilities, _draftProbabilities[i], sampler))
                    return (i, SpeculativeAcceptance.Replace(_targetProbabilities, _draftProbabilities[i], _residual, sampler));
            }
            sampler.Probabilities(_targetLogits.AsSpan(drafts.Count * _vocab, _vocab), CollectionsMarshal.AsSpan(history), _targetProbabilities);
            return (drafts.Count, sampler.SampleFrom(_targetProbabilities));
        }
        finally
        {
            history.RemoveRange(known, drafts.Count);
        }
    }

    public void Dispose()
    {
        TargetSession.Dispose();
        _drafter.Dispose();
    }
}
