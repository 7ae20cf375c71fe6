using GlmSharp.Tensors;

namespace GlmSharp.Kernels;

/// <summary>
/// Every numeric operation a model needs. Models call only this interface, so a CPU, CUDA or Ascend
/// implementation can sit behind it without the architecture files changing. Activations are row-major
/// fp32 matrices: <c>rows</c> tokens of <c>width</c> values each.
/// </summary>
public interface IComputeBackend
{
    string Name { get; }

    /// <summary>y[rows, out] = x[rows, in] · Wᵀ, with W stored [out, in] in any supported element type.</summary>
    void MatMul(TensorView weight, ReadOnlySpan<float> x, Span<float> y, int rows);

    /// <summary>
    /// Projections of one input in one operation (a layer's q, k and v): y holds each weight's [rows, outᵢ] result
    /// one after another. A backend can then prepare x once and keep every thread busy across all the rows.
    /// </summary>
    void MatMul(ReadOnlySpan<TensorView> weights, ReadOnlySpan<float> x, Span<float> y, int rows);

    /// <summary>Copies (and decodes) row <paramref name="row"/> of a [rows, width] table into dst.</summary>
    void GatherRow(TensorView table, int row, Span<float> dst);

    /// <summary>y = x / sqrt(mean(x²) + eps) · weight, for each row of width weight.Length.</summary>
    void RmsNorm(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, float eps, Span<float> y, int rows);

    /// <summary>x[r, :] += bias for every row.</summary>
    void AddBias(Span<float> x, ReadOnlySpan<float> bias, int rows);

    /// <summary>x += y, element-wise.</summary>
    void Add(Span<float> x, ReadOnlySpan<float> y);

    /// <summary>out[r, i] = silu(gateUp[r, i]) · gateUp[r, I + i], where each gateUp row holds gate then up (2·I values).</summary>
    void SwiGlu(ReadOnlySpan<float> gateUp, Span<float> output, int rows, int intermediate);

    /// <summary>
    /// Rotates the first rope.RotaryDims of every head of every row in place. positions is row-major
    /// [rows, rope.PositionComponents]: one int per row for text, (t, h, w, e) per row for M-RoPE.
    /// </summary>
    void Rope(Span<float> x, int rows, int heads, int headDim, ReadOnlySpan<int> positions, RopeTable rope);

    /// <summary>
    /// Causal grouped-query attention of <paramref name="rows"/> new queries against the cache of one layer.
    /// Query row r sits at cache position firstPosition + r and sees positions [0, firstPosition + r].
    /// </summary>
    void Attention(ReadOnlySpan<float> q, int rows, int firstPosition, LayerKvCache cache, Span<float> output, int heads, float scale);
}
