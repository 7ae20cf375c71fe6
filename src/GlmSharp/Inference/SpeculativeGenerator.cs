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
/// Draft-model speculative decoding: a small model with the same vocabulary proposes <c>k</c> tokens one at a time, the
/// target model checks all of them in one step (k + 1 rows of the same sequence), and the longest prefix the target
/// agrees with is kept, plus one token from the target (<see cref="SpeculativeAcceptance"/>). Greedy output is exactly
/// the target's greedy output; sampled output keeps the target's distribution. Each step costs the target one batched
/// step instead of up to k + 1 single-token ones.
/// </summary>
public sealed class SpeculativeGenerator : IDisposable
{
    public const int MaxDraftTokens = 16;

    private readonly LoadedModel _target, _draft;
    private readonly int _draftTokens, _vocab;
    private readonly float[] _targetLogits, _draftLogits, _targetProbabilities, _residual;
    private readonly float[][] _draftProbabilities;

    public ModelSession TargetSession { get; }
    public ModelSession DraftSession { get; }
    public SpeculationStats Stats { get; private set; } = new(0, 0, 0);

    public SpeculativeGenerator(LoadedModel target, LoadedModel draft, int draftTokens, int? contextLength = null, KvCacheType cacheType = KvCacheType.F16)
    {
        if (target.Tokenizer is null) throw new UnsupportedModelException($"{target.Path}: the model has no tokenizer, so it cannot generate text");
        if (draft.Config.VocabSize != target.Config.VocabSize)
            throw new UnsupportedModelException(
                $"{draft.Path}: the draft model has {draft.Config.VocabSize} tokens, the target {target.Path} {target.Config.VocabSize}; a draft must share the target's vocabulary");
        if (draftTokens < 1 || draftTokens > MaxDraftTokens)
            throw new ArgumentOutOfRangeException(nameof(draftTokens), draftTokens, $"draft tokens must be from 1 to {MaxDraftTokens}");
        _target = target;
        _draft = draft;
        _draftTokens = draftTokens;
        _vocab = target.Config.VocabSize;
        int context = contextLength ?? Math.Min(Math.Min(target.Config.MaxPositions, draft.Config.MaxPositions), 4096);
        TargetSession = target.Model.CreateSession(context, cacheType: cacheType);
        DraftSession = draft.Model.CreateSession(Math.Min(context, draft.Config.MaxPositions), cacheType: cacheType);
        _targetLogits = new float[(draftTokens + 2) * _vocab];
        _draftLogits = new float[_vocab];
        _targetProbabilities = new float[_vocab];
        _residual = new float[_vocab];
        _draftProbabilities = [.. Enumerable.Range(0, draftTokens).Select(_ => new float[_vocab])];
    }

    public async IAsyncEnumerable<GenerationChunk> GenerateAsync(IReadOnlyList<int> prompt, GenerationOptions options,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        if (prompt.Count == 0) throw new ArgumentException("the prompt is empty", nameof(prompt));
        int context = Math.Min(TargetSession.ContextLength, DraftSession.ContextLength);
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
        DraftSession.Truncate(0);
        var head = prompt.Take(prompt.Count - 1).ToArray();
        if (head.Length > 0)
        {
            _target.Model.Forward(head, TargetSession, _targetLogits);
            _draft.Model.Forward(head, DraftSession, _draftLogits);
        }
        int[] targetPending = [prompt[^1]], draftPending = [prompt[^1]];

        FinishReason finish = FinishReason.Length;
        int produced = 0;
        while (produced < options.MaxTokens)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int k = Math.Min(_draftTokens, Math.Min(options.MaxTokens - produced - 1, context - TargetSession.Length - targetPending.Length - 1));
            k = Math.Max(k, 0);
            int draftBase = DraftSession.Length + draftPending.Length;
            Draft(draftPending, k, history, drafts, draftSampler);

            int targetBase = TargetSession.Length + targetPending.Length;
            int[] rows = [.. targetPending, .. drafts];
            _target.Model.Forward(rows, TargetSession, _targetLogits, LogitsFor.AllTokens);
            var (accepted, next) = Verify(targetPending.Length - 1, drafts, history, targetSampler);
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

            TargetSession.Truncate(targetBase + accepted);
            targetPending = [next];
            if (k > 0)
            {
                // The draft holds its pending tokens and drafts 0..k-2 (the last draft was never fed to it).
                DraftSession.Truncate(draftBase + Math.Min(accepted, k - 1));
                draftPending = accepted == k ? [drafts[k - 1], next] : [next];
            }
            else draftPending = [.. draftPending, next];
            if (TargetSession.Length + targetPending.Length >= context)
            {
                finish = FinishReason.ContextFull;
                break;
            }
        }
    Done:
        yield return output.Finish(finish);
    }

    /// <summary>The draft's k proposals, each drawn from its distribution after the ones before it.</summary>
    private void Draft(int[] pending, int k, List<int> history, List<int> drafts, Sampler sampler)
    {
        drafts.Clear();
        if (k == 0) return;
        _draft.Model.Forward(pending, DraftSession, _draftLogits);
        int known = history.Count;
        for (int i = 0; i < k; i++)
        {
            sampler.Probabilities(_draftLogits, CollectionsMarshal.AsSpan(history), _draftProbabilities[i]);
            int token = sampler.SampleFrom(_draftProbabilities[i]);
            drafts.Add(token);
            history.Add(token);
            if (i + 1 < k) _draft.Model.Forward([token], DraftSession, _draftLogits);
        }
        history.RemoveRange(known, k);
    }

    /// <summary>
    /// How many drafts the target keeps, and the token it adds after them. Row <paramref name="firstRow"/> of the
    /// target's logits predicts the first draft's position; the history each row is sampled after is the known tokens
    /// and the drafts before it (appended to <paramref name="history"/> for the check, removed after).
    /// </summary>
    private (int Accepted, int Next) Verify(int firstRow, List<int> drafts, List<int> history, Sampler sampler)
    {
        int known = history.Count;
        history.AddRange(drafts);
        try
        {
            for (int i = 0; i < drafts.Count; i++)
            {
                sampler.Probabilities(_targetLogits.AsSpan((firstRow + i) * _vocab, _vocab), CollectionsMarshal.AsSpan(history)[..(known + i)], _targetProbabilities);
                if (!SpeculativeAcceptance.Accept(drafts[i], _targetProbabilities, _draftProbabilities[i], sampler))
                    return (i, SpeculativeAcceptance.Replace(_targetProbabilities, _draftProbabilities[i], _residual, sampler));
            }
            sampler.Probabilities(_targetLogits.AsSpan((firstRow + drafts.Count) * _vocab, _vocab), CollectionsMarshal.AsSpan(history), _targetProbabilities);
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
        DraftSession.Dispose();
    }
}
