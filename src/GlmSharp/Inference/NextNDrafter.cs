using System.Runtime.InteropServices;
using GlmSharp.Errors;
using GlmSharp.Kernels;
using GlmSharp.Models;

namespace GlmSharp.Inference;

/// <summary>
/// Self-speculation with the target's own multi-token-prediction layer (<see cref="MtpLayer"/>): every position the
/// target caches is passed through the layer with the token that followed it, which leaves the layer's prediction for
/// the token after the pending one; further drafts chain the layer on its own output, in rows that are dropped again.
/// </summary>
public sealed class NextNDrafter : ISpeculativeDrafter
{
    private readonly MtpLayer _layer;
    private readonly MtpSession _session;
    private readonly float[] _logits, _chainLogits, _lastHidden, _chainHidden;
    private bool _hasPrediction;

    public NextNDrafter(LoadedModel target, int contextLength, KvCacheType cacheType = KvCacheType.F16)
    {
        _layer = target.Model.NextN ?? throw new UnsupportedModelException(
            $"{target.Path}: the model has no multi-token-prediction layer (num_nextn_predict_layers is 0, or its architecture {target.Architecture.ModelType} has none); use --draft with a draft model instead");
        _session = _layer.CreateSession(contextLength, cacheType);
        int vocab = target.Config.VocabSize, hidden = target.Config.HiddenSize;
        _logits = new float[vocab];
        _chainLogits = new float[vocab];
        _lastHidden = new float[hidden];
        _chainHidden = new float[hidden];
    }

    public int ContextLength => _session.Session.ContextLength;

    public void Reset()
    {
        _session.Truncate(0);
        _hasPrediction = false;
    }

    public void Commit(IReadOnlyList<int> history, ReadOnlySpan<float> hidden, int rows)
    {
        if (rows == 0) return;
        int first = _session.Length;
        if (first + rows != history.Count - 1)
            throw new InvalidOperationException($"the multi-token-prediction layer holds {first} positions; {rows} more do not reach the {history.Count - 1} the target holds");
        var following = new int[rows];
        for (int i = 0; i < rows; i++) following[i] = history[first + 1 + i];
        _layer.Forward(following, hidden, _session, _logits, LogitsFor.LastToken, _lastHidden);
        _hasPrediction = true;
    }

    public void Draft(int k, List<int> history, List<int> drafts, float[][] probabilities, Sampler sampler)
    {
        drafts.Clear();
        if (!_hasPrediction) return;
        k = Math.Min(k, ContextLength - _session.Length + 1);
        int committed = _session.Length, known = history.Count;
        _lastHidden.CopyTo(_chainHidden, 0);
        var logits = _logits;
        for (int i = 0; i < k; i++)
        {
            sampler.Probabilities(logits, CollectionsMarshal.AsSpan(history), probabilities[i]);
            int token = sampler.SampleFrom(probabilities[i]);
            drafts.Add(token);
            history.Add(token);
            if (i + 1 == k) break;
            _layer.Forward([token], _chainHidden, _session, _chainLogits, LogitsFor.LastToken, _chainHidden);
            logits = _chainLogits;
        }
        history.RemoveRange(known, drafts.Count);
        _session.Truncate(committed);
    }

    public void Dispose() => _session.Dispose();
}
