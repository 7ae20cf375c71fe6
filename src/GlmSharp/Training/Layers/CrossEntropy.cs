using System.Numerics.Tensors;

namespace GlmSharp.Training.Layers;

/// <summary>Mean next-token cross-entropy over the rows whose target is not negative (negative = masked out).</summary>
public static class CrossEntropy
{
    /// <summary>
    /// Returns the mean loss and writes its gradient (softmax − one-hot)/count into <paramref name="dLogits"/>, which may
    /// be the logits buffer itself; masked rows get a zero gradient.
    /// </summary>
    public static float ForwardBackward(ReadOnlySpan<float> logits, ReadOnlySpan<int> targets, Span<float> dLogits, int rows, int vocab)
    {
        int count = 0;
        foreach (int t in targets[..rows]) if (t >= 0) count++;
        double total = 0;
        for (int r = 0; r < rows; r++)
        {
            var l = logits.Slice(r * vocab, vocab);
            var d = dLogits.Slice(r * vocab, vocab);
            int target = targets[r];
            if (target < 0)
            {
                d.Clear();
                continue;
            }
            float max = TensorPrimitives.Max(l);
            float targetLogit = l[target];
            TensorPrimitives.Subtract(l, max, d);
            TensorPrimitives.Exp(d, d);
            float sum = TensorPrimitives.Sum(d);
            total += Math.Log(sum) + max - targetLogit;
            TensorPrimitives.Multiply(d, 1f / (sum * count), d);
            d[target] -= 1f / count;
        }
        return count == 0 ? 0f : (float)(total / count);
    }
}
