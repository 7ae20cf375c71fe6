namespace GlmSharp.Training;

/// <summary>AdamW hyper-parameters (PyTorch's names and defaults, except the decay suited to small models).</summary>
public sealed record AdamWOptions
{
    public float Beta1 { get; init; } = 0.9f;
    public float Beta2 { get; init; } = 0.95f;
    public float Epsilon { get; init; } = 1e-8f;
    public float WeightDecay { get; init; } = 0.1f;
}

/// <summary>
/// AdamW as in PyTorch (decoupled weight decay): p ← p·(1 − lr·λ) for matrices only; m ← β₁m + (1−β₁)g;
/// v ← β₂v + (1−β₂)g²; p ← p − lr·(m/(1−β₁ᵗ)) / (sqrt(v/(1−β₂ᵗ)) + ε).
/// </summary>
public sealed class AdamW
{
    private readonly TrainingParameters _parameters;

    public AdamW(TrainingParameters parameters, AdamWOptions options)
    {
        _parameters = parameters;
        Options = options;
        FirstMoment = new float[parameters.Count];
        SecondMoment = new float[parameters.Count];
    }

    public AdamWOptions Options { get; }
    public float[] FirstMoment { get; }
    public float[] SecondMoment { get; }

    /// <summary>Number of updates applied so far (t in the bias corrections).</summary>
    public long StepCount { get; set; }

    public void Step(float learningRate)
    {
        StepCount++;
        var o = Options;
        float correction1 = 1f - MathF.Pow(o.Beta1, StepCount);
        float correction2 = 1f - MathF.Pow(o.Beta2, StepCount);
        float[] values = _parameters.Values, grads = _parameters.Gradients, m = FirstMoment, v = SecondMoment;
        Parallel.ForEach(_parameters.All, p =>
        {
            float decay = p.Decays ? 1f - learningRate * o.WeightDecay : 1f;
            for (int i = p.Offset; i < p.Offset + p.Length; i++)
            {
                float g = grads[i];
                m[i] = o.Beta1 * m[i] + (1f - o.Beta1) * g;
                v[i] = o.Beta2 * v[i] + (1f - o.Beta2) * g * g;
                float mHat = m[i] / correction1;
                float vHat = v[i] / correction2;
                values[i] = values[i] * decay - learningRate * mHat / (MathF.Sqrt(vHat) + o.Epsilon);
            }
        });
    }
}
