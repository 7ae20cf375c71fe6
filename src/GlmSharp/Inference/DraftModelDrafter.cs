using System.Runtime.InteropServices;
using GlmSharp.Errors;
using GlmSharp.Kernels;
using GlmSharp.Models;

namespace GlmSharp.Inference;

/// <summary>
/// A small model with the target's vocabulary drafts one token at a time. Its cache holds a prefix of the history plus
/// the drafts it was fed; each step it keeps what still agrees with the history and feeds the rest.
/// </summary>
public sealed class DraftModelDrafter : ISpeculativeDrafter
{
    private readonly LoadedModel _draft;
    private readonly ModelSession _session;
    private readonly List<int> _fed = [];
    private readonly float[] _logits;

    public DraftModelDrafter(LoadedModel draft, LoadedModel target, int contextLength, KvCacheType cacheType = KvCacheType.F16)
    {
        if (draft.Config.VocabSize != target.Config.VocabSize)
            throw new UnsupportedModelException(
                $"{draft.Path}: the draft model has {draft.Config.VocabSize} tokens, the target {target.Path} {target.Config.VocabSize}; a draft must share the target's vocabulary");
        _draft = draft;
        _session = draft.Model.CreateSession(Math.Min(contextLength, draft.Config.MaxPositions), cacheType: cacheType);
        _logits = new float[draft.Config.VocabSize];
    }

    public int ContextLength => _session.ContextLength;

    public void Reset()
    {
        _session.Truncate(0);
        _fed.Clear();
    }

    public void Commit(IReadOnlyList<int> history, ReadOnlySpan<float> hidden, int rows)
    {
    }

    public void Draft(int k, List<int> history, List<int> drafts, float[][] probabilities, Sampler sampler)
    {
        drafts.Clear();
        if (k == 0) return;
        int kept = 0;
        while (kept < _fed.Count && kept < history.Count - 1 && _fed[kept] == history[kept]) kept++;
        _session.Truncate(kept);
        _fed.RemoveRange(kept, _fed.Count - kept);
        var unfed = CollectionsMarshal.AsSpan(history)[kept..];
        _draft.Model.Forward(unfed, _session, _logits);
        _fed.AddRange(unfed);

        int known = history.Count;
        for (int i = 0; i < k; i++)
        {
            sampler.Probabilities(_logits, CollectionsMarshal.AsSpan(history), probabilities[i]);
            int token = sampler.SampleFrom(probabilities[i]);
            drafts.Add(token);
            history.Add(token);
            if (i + 1 == k) break;
            _draft.Model.Forward([token], _session, _logits);
            _fed.Add(token);
        }
        history.RemoveRange(known, k);
    }

    public void Dispose() => _session.Dispose();
}
