using GlmSharp.Errors;

namespace GlmSharp.Configs;

/// <summary>
/// The ranges a model's hyper-parameters must lie in before anything is sized by them: array lengths, buffers, the
/// rotary tables and the kernels' stack buffers all take these values, so a file cannot reach them unchecked. The
/// bounds are generous (several times the largest GLM: GLM-5's 78 layers, 151,552-token vocabulary, 202,752-token
/// context) and only keep sizes computable and allocations sane.
/// </summary>
public static class ModelConfigLimits
{
    public const int MaxVocab = 1 << 24;
    public const int MaxWidth = 1 << 17;
    public const int MaxLayers = 1024;
    public const int MaxHeads = 1024;
    public const int MaxHeadDim = 4096;
    public const int MaxIntermediate = 1 << 20;
    public const int MaxContext = 1 << 24;

    /// <summary>Throws a <see cref="ModelFormatException"/> naming the file, the key, the value and the allowed range.</summary>
    public static void Check(ModelConfig c, string origin)
    {
        var keys = c.Keys;
        InRange(c.VocabSize, 1, MaxVocab, keys.Vocab);
        InRange(c.HiddenSize, 1, MaxWidth, keys.Hidden);
        InRange(c.NumLayers, 1, MaxLayers, keys.Layers);
        InRange(c.NumHeads, 1, MaxHeads, keys.Heads);
        InRange(c.NumKvHeads, 1, c.NumHeads, keys.KvHeads);
        if (c.NumHeads % c.NumKvHeads != 0)
            throw Fail($"{keys.KvHeads} {c.NumKvHeads} does not divide {keys.Heads} {c.NumHeads} (each kv head serves a whole group of query heads)");
        InRange(c.HeadDim, 2, MaxHeadDim, keys.HeadDim);
        InRange(c.IntermediateSize, 1, MaxIntermediate, keys.Intermediate);
        InRange(c.MaxPositions, 1, MaxContext, keys.Context);
        if (!double.IsFinite(c.RmsNormEps) || c.RmsNormEps < 0 || c.RmsNormEps >= 1)
            throw Fail($"{keys.RmsEps} {c.RmsNormEps} is outside [0, 1)");
        if (!double.IsFinite(c.RopeTheta) || c.RopeTheta <= 0)
            throw Fail($"{keys.RopeTheta} gives a RoPE base of {c.RopeTheta}; it must be a positive number");
        if (!double.IsFinite(c.PartialRotaryFactor) || c.PartialRotaryFactor <= 0 || c.PartialRotaryFactor > 1)
            throw Fail($"{keys.Rotary} gives a rotary fraction of {c.PartialRotaryFactor} of the head; it must be in (0, 1]");
        int rotary = c.RotaryDims;
        if (rotary < 2 || rotary % 2 != 0)
            throw Fail($"{keys.Rotary} gives {rotary} rotary dimensions of a {c.HeadDim}-wide head; they must be even, from 2 to {c.HeadDim}");
        foreach (int id in c.EosTokenIds)
            InRange(id, 0, c.VocabSize - 1, keys.EosIds);
        // Every buffer of a step is rows × width; keep the widest within what one allocation can index.
        long widest = Math.Max(Math.Max((long)c.NumHeads * c.HeadDim, 2L * c.IntermediateSize), c.VocabSize);
        if (widest * 512 > int.MaxValue)
            throw Fail($"a row of {widest} values ({keys.Heads} × {keys.HeadDim}, 2 × {keys.Intermediate} or {keys.Vocab}) is too wide for 512-row steps");

        void InRange(long value, long min, long max, string key)
        {
            if (value < min || value > max) throw Fail($"{key} {value} is outside {min}..{max}");
        }

        ModelFormatException Fail(string what) => new($"{origin}: {what}");
    }
}
