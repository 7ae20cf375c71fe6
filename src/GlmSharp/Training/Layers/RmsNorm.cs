using System.Numerics.Tensors;

namespace GlmSharp.Training.Layers;

/// <summary>y = x · rsqrt(mean(x²) + eps) · w per row (weight used as-is, not 1 + w), and its gradient.</summary>
public static class RmsNorm
{
    /// <param name="rstd">Saved for the backward pass: rsqrt(mean(x²) + eps) of each row.</param>
    public static void Forward(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, Span<float> y, Span<float> rstd,
        int rows, int dim, float eps)
    {
        for (int r = 0; r < rows; r++)
        {
            var xr = x.Slice(r * dim, dim);
            float inv = 1f / MathF.Sqrt(TensorPrimitives.SumOfSquares(xr) / dim + eps);
            rstd[r] = inv;
            var yr = y.Slice(r * dim, dim);
            TensorPrimitives.Multiply(xr, inv, yr);
            TensorPrimitives.Multiply(yr, weight, yr);
        }
    }

    /// <summary>
    /// dx = rstd·(dy⊙w) − x·rstd³·Σ(dy⊙w⊙x)/dim (written, or added when <paramref name="accumulateDx"/>);
    /// dWeight += Σ_rows dy⊙x·rstd.
    /// </summary>
    public static void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> rstd,
        ReadOnlySpan<float> dy, Span<float> dx, Span<float> dWeight, int rows, int dim, bool accumulateDx)
    {
        var dyw = dim <= 4096 ? stackalloc float[dim] : new float[dim];
        for (int r = 0; r < rows; r++)
        {
            var xr = x.Slice(r * dim, dim);
            var dyr = dy.Slice(r * dim, dim);
            float inv = rstd[r];
            TensorPrimitives.Multiply(dyr, xr, dyw);
            TensorPrimitives.MultiplyAdd(dyw, inv, dWeight, dWeight);

            TensorPrimitives.Multiply(dyr, weight, dyw);
            float projection = TensorPrimitives.Dot(dyw, xr) * inv * inv * inv / dim;
            var dxr = dx.Slice(r * dim, dim);
            if (!accumulateDx) dxr.Clear();
            TensorPrimitives.MultiplyAdd(dyw, inv, dxr, dxr);
            TensorPrimitives.MultiplyAdd(xr, -projection, dxr, dxr);
        }
    }
}
