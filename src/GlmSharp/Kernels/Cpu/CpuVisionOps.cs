using System.Numerics.Tensors;

namespace GlmSharp.Kernels.Cpu;

/// <summary>The vision encoder's blocks: LayerNorm with bias, GELU in both of its forms, attention without a mask.</summary>
internal static class CpuVisionOps
{
    public static void LayerNorm(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, float eps, Span<float> y, int rows)
    {
        int width = weight.Length;
        for (int r = 0; r < rows; r++)
        {
            var row = x.Slice(r * width, width);
            var output = y.Slice(r * width, width);
            float mean = TensorPrimitives.Sum(row) / width;
            TensorPrimitives.Subtract(row, mean, output);
            float variance = TensorPrimitives.Dot(output, output) / width;
            TensorPrimitives.Multiply(output, 1f / MathF.Sqrt(variance + eps), output);
            TensorPrimitives.Multiply(output, weight, output);
            if (!bias.IsEmpty) TensorPrimitives.Add(output, bias, output);
        }
    }

    private const float SqrtTwoOverPi = 0.7978845608028654f;

    public static void Gelu(ReadOnlySpan<float> x, Span<float> y, GeluApproximation approximation)
    {
        for (int i = 0; i < x.Length; i++)
        {
            float v = x[i];
            y[i] = approximation == GeluApproximation.Tanh
                ? 0.5f * v * (1f + MathF.Tanh(SqrtTwoOverPi * (v + 0.044715f * v * v * v)))
                : (float)(0.5 * v * (1 + Erf(v / Math.Sqrt(2))));
        }
    }

    /// <summary>
    /// erf(x) by Abramowitz and Stegun 7.1.26 in double precision (absolute error below 1.5e-7, under half an fp32
    /// step of the GELU output's 1 + erf term): .NET has no erf of its own.
    /// </summary>
    internal static double Erf(double x)
    {
        double t = 1 / (1 + 0.3275911 * Math.Abs(x));
        double poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
        double magnitude = 1 - poly * Math.Exp(-x * x);
        return x < 0 ? -magnitude : magnitude;
    }

    /// <summary>
    /// Every token against every token, one (token, head) at a time, softmax in fp32 (shifted by the row's maximum): the reference
    /// <see cref="CpuBidirectionalAttention"/> is tested against.
    /// </summary>
    public static void BidirectionalAttention(ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v, Span<float> output,
        int tokens, int heads, int headDim, float scale, Span<float> scores)
    {
        int width = heads * headDim;
        for (int t = 0; t < tokens; t++)
            for (int h = 0; h < heads; h++)
            {
                var query = q.Slice(t * width + h * headDim, headDim);
                var row = scores[..tokens];
                for (int s = 0; s < tokens; s++) row[s] = TensorPrimitives.Dot(query, k.Slice(s * width + h * headDim, headDim)) * scale;
                // SoftMax exponentiates the scores as they are: one above 88 would overflow to ∞ and the row to NaN.
                TensorPrimitives.Subtract(row, TensorPrimitives.Max(row), row);
                TensorPrimitives.SoftMax(row, row);
                var result = output.Slice(t * width + h * headDim, headDim);
                result.Clear();
                for (int s = 0; s < tokens; s++) TensorPrimitives.MultiplyAdd(v.Slice(s * width + h * headDim, headDim), scores[s], result, result);
            }
    }
}
