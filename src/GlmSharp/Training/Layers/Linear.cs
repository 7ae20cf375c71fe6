namespace GlmSharp.Training.Layers;

/// <summary>y = x·Wᵀ + b with a PyTorch-layout weight W[out, in], and its gradient.</summary>
public static class Linear
{
    /// <param name="scratch">At least in·out values.</param>
    public static void Forward(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, Span<float> y,
        Span<float> scratch, int rows, int inDim, int outDim)
    {
        var weightT = scratch[..(inDim * outDim)];
        TrainingKernels.Transpose(weight, weightT, outDim, inDim);
        TrainingKernels.MatMul(x, weightT, y, rows, inDim, outDim, accumulate: false);
        if (bias.IsEmpty) return;
        for (int r = 0; r < rows; r++)
            System.Numerics.Tensors.TensorPrimitives.Add(y.Slice(r * outDim, outDim), bias, y.Slice(r * outDim, outDim));
    }

    /// <summary>
    /// dx = dy·W (written, or added when <paramref name="accumulateDx"/>; skipped when dx is empty);
    /// dW += (xᵀ·dy)ᵀ; dBias += Σ_rows dy when dBias is not empty.
    /// </summary>
    /// <param name="xTransposed">Scratch of at least rows·in values.</param>
    /// <param name="dWeightTransposed">Scratch of at least in·out values.</param>
    public static void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> dy, Span<float> dx,
        Span<float> dWeight, Span<float> dBias, Span<float> xTransposed, Span<float> dWeightTransposed,
        int rows, int inDim, int outDim, bool accumulateDx)
    {
        if (!dx.IsEmpty) TrainingKernels.MatMul(dy, weight, dx, rows, outDim, inDim, accumulateDx);
        // xᵀ·dy keeps dy in its natural layout; transposing x (rows·in) is cheaper than dy when out is the vocabulary.
        var xT = xTransposed[..(rows * inDim)];
        var dwT = dWeightTransposed[..(inDim * outDim)];
        TrainingKernels.Transpose(x, xT, rows, inDim);
        TrainingKernels.MatMul(xT, dy, dwT, inDim, rows, outDim, accumulate: false);
        TrainingKernels.Transpose(dwT, dWeight, inDim, outDim, accumulate: true);
        if (!dBias.IsEmpty) TrainingKernels.AddColumnSums(dy, dBias, rows, outDim);
    }
}
