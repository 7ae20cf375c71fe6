using GlmSharp.Kernels.Paging;
using GlmSharp.Tensors;

namespace GlmSharp.Kernels;

/// <summary>
/// Every numeric operation a model needs. Models call only this interface, so a CPU, CUDA or Ascend
/// implementation can sit behind it without the architecture files changing. Activations are row-major
/// fp32 matrices (<c>rows</c> tokens of <c>width</c> values each) in memory the backend allocated
/// (<see cref="DeviceSpan{T}"/>), so an accelerator keeps them on the device from one operation to the next; weights
/// stay where the checkpoint is mapped unless the backend keeps its own copy (<see cref="PrepareMatrix"/>), and per-step metadata (positions, block tables, token ids) comes from the host.
/// </summary>
public interface IComputeBackend
{
    string Name { get; }

    /// <summary>Memory of <paramref name="bytes"/> bytes where this backend computes; its contents are undefined until written.</summary>
    DeviceMemory Allocate(long bytes);

    void Upload<T>(ReadOnlySpan<T> source, DeviceSpan<T> destination) where T : unmanaged;

    void Download<T>(DeviceSpan<T> source, Span<T> destination) where T : unmanaged;

    /// <summary>destination = source (of equal lengths, not overlapping), without a trip through the host.</summary>
    void Copy<T>(DeviceSpan<T> source, DeviceSpan<T> destination) where T : unmanaged;

    /// <summary>
    /// The backend chooses where and how a matrix it multiplies lives: called once per weight matrix at load, it returns
    /// the view to pass to <see cref="MatMul(TensorView, DeviceSpan{float}, DeviceSpan{float}, int)"/> from then on — the
    /// stored view as it is, or a copy in the backend's own layout or memory (repacked for its kernels, uploaded to a
    /// device) that lives as long as the returned view. Only MatMul takes the returned view.
    /// </summary>
    TensorView PrepareMatrix(TensorView stored) => stored;

    /// <summary>y[rows, out] = x[rows, in] · Wᵀ, with W stored [out, in] in any supported element type.</summary>
    void MatMul(TensorView weight, DeviceSpan<float> x, DeviceSpan<float> y, int rows);

    /// <summary>
    /// Projections of one input in one operation (a layer's q, k and v): y holds each weight's [rows, outᵢ] result
    /// one after another. A backend can then prepare x once and keep every thread busy across all the rows.
    /// </summary>
    void MatMul(ReadOnlySpan<TensorView> weights, DeviceSpan<float> x, DeviceSpan<float> y, int rows);

    /// <summary>Row i of destination ([ids, width]) = row ids[i] of a [rows, width] table, decoded to fp32 (token embeddings).</summary>
    void GatherRows(TensorView table, ReadOnlySpan<int> ids, DeviceSpan<float> destination);

    /// <summary>y = x / sqrt(mean(x²) + eps) · weight, for each row of width weight.Length.</summary>
    void RmsNorm(DeviceSpan<float> x, DeviceSpan<float> weight, float eps, DeviceSpan<float> y, int rows);

    /// <summary>x[r, :] += bias for every row.</summary>
    void AddBias(DeviceSpan<float> x, DeviceSpan<float> bias, int rows);

    /// <summary>x[i] = value for every element.</summary>
    void Fill(DeviceSpan<float> x, float value);

    /// <summary>x += y, element-wise.</summary>
    void Add(DeviceSpan<float> x, DeviceSpan<float> y);

    /// <summary>out[r, i] = silu(gateUp[r, i]) · gateUp[r, I + i], where each gateUp row holds gate then up (2·I values).</summary>
    void SwiGlu(DeviceSpan<float> gateUp, DeviceSpan<float> output, int rows, int intermediate);

    /// <summary>out[r, i] = silu(gate[r, i]) · up[r, i], for gate and up projections computed apart ([rows, width] each).</summary>
    void SwiGlu(DeviceSpan<float> gate, DeviceSpan<float> up, DeviceSpan<float> output, int rows, int width);

    /// <summary>
    /// Rotates the first rope.RotaryDims of every head of every row in place. positions is row-major
    /// [rows, rope.PositionComponents]: one int per row for text, (t, h, w, e) per row for M-RoPE.
    /// </summary>
    void Rope(DeviceSpan<float> x, int rows, int heads, int headDim, ReadOnlySpan<int> positions, RopeTable rope);

    /// <summary>
    /// Stores each row's values ([rows, heads·width], as projected) at the row's slot of its sequence in a paged cache
    /// stream, rounded to the stream's element type as llama.cpp rounds a cache of that type.
    /// </summary>
    void StoreRows(PagedStream stream, CacheRows rows, DeviceSpan<float> values);

    /// <summary>
    /// Causal grouped-query attention of each row over its own sequence in the paged cache: row r sees slots
    /// [0, rows.Slots[r]] of its sequence's keys and values. q and output are [rows, heads·headDim]; query head h
    /// reads kv head h / (heads / kvHeads).
    /// </summary>
    void Attention(DeviceSpan<float> q, CacheRows rows, PagedStream keys, PagedStream values, DeviceSpan<float> output, int heads, float scale);

    /// <summary>
    /// Multi-head latent attention in its absorbed form (DeepSeek-V2's MLA, as llama.cpp's deepseek2 graph runs it): one
    /// cached row per position of <paramref name="latents"/> (one head) is every query head's key, and its
    /// <paramref name="valueWidth"/> values from <paramref name="valueOffset"/> are the value. q is [rows, heads, latents.Width],
    /// output [rows, heads, valueWidth]; causal over each row's own sequence as <see cref="Attention"/>.
    /// </summary>
    void LatentAttention(DeviceSpan<float> q, CacheRows rows, PagedStream latents, int valueOffset, int valueWidth, DeviceSpan<float> output, int heads, float scale);

    /// <summary>
    /// <see cref="LatentAttention"/> restricted to the positions <paramref name="selection"/> chose for each row (DeepSeek
    /// sparse attention); a row that sees no more than selection.TopK positions attends to all of them. A row that sees more
    /// costs O(selection.TopK), however long its context.
    /// </summary>
    void SparseLatentAttention(DeviceSpan<float> q, CacheRows rows, PagedStream latents, int valueOffset, int valueWidth, DeviceSpan<float> output, int heads,
        float scale, KeySelection selection);

    /// <summary>
    /// The lightning indexer of DeepSeek sparse attention (DeepSeek-V3.2, GLM-5): every row that sees more than
    /// selection.TopK positions scores each of them over its sequence's cached indexer keys (one head of
    /// <paramref name="keys"/>) as Σ_h weights[r, h] · ReLU(q[r, h] · k_t) and writes the TopK best, ascending, to
    /// <paramref name="selection"/>. q is [rows, heads, keys.Width], weights [rows, heads].
    /// </summary>
    void SelectKeys(DeviceSpan<float> q, DeviceSpan<float> weights, CacheRows rows, PagedStream keys, int heads, KeySelection selection);

    /// <summary>
    /// Copies <paramref name="rows"/> runs of <paramref name="width"/> values from rows <paramref name="sourceStride"/> apart to rows
    /// <paramref name="destinationStride"/> apart: gathers one part of each head (MLA's q_nope) or places parts side by side.
    /// </summary>
    void CopyRows(DeviceSpan<float> source, int sourceStride, DeviceSpan<float> destination, int destinationStride, int rows, int width)
    {
        for (int r = 0; r < rows; r++) Copy(source.Slice(r * sourceStride, width), destination.Slice(r * destinationStride, width));
    }

    /// <summary>
    /// Chooses each row's experts from router logits [rows, experts] as <paramref name="routing"/> says, writing
    /// [rows, ExpertsPerRow] expert ids (best first) and their mixing weights.
    /// </summary>
    void RouteExperts(DeviceSpan<float> logits, int rows, MoeRouting routing, DeviceSpan<int> experts, DeviceSpan<float> weights);

    /// <summary>
    /// y[r, s] = experts[ids[r, s]] · x, for every row r and slot s ([rows, slots, out]); x is row r's input
    /// ([rows, in]) or, with <paramref name="inputPerSlot"/>, slot (r, s)'s own ([rows, slots, in]). The rows routed
    /// to one expert are multiplied together, so each expert's weights are read once per call.
    /// </summary>
    void MatMulExperts(ReadOnlySpan<TensorView> experts, DeviceSpan<float> x, bool inputPerSlot, DeviceSpan<int> ids, int rows, int slots, DeviceSpan<float> y);

    /// <summary>
    /// The gate and up projections of a SwiGLU expert at once: for every (row, slot) pair, gateOut = gate[ids] · x and
    /// upOut = up[ids] · x ([rows, slots, out] each). Both read the same gathered, prepared input once per expert.
    /// </summary>
    void MatMulExperts(ReadOnlySpan<TensorView> gate, ReadOnlySpan<TensorView> up, DeviceSpan<float> x, DeviceSpan<int> ids, int rows, int slots,
        DeviceSpan<float> gateOut, DeviceSpan<float> upOut);

    /// <summary>output[r] += Σ_s weights[r, s] · y[r, s], for y of [rows, slots, width].</summary>
    void AddWeightedSlots(DeviceSpan<float> output, DeviceSpan<float> y, DeviceSpan<float> weights, int rows, int slots);

    /// <summary>y = (x − mean) / sqrt(var + eps) · weight + bias, for each row of width weight.Length (bias may be empty).</summary>
    void LayerNorm(DeviceSpan<float> x, DeviceSpan<float> weight, DeviceSpan<float> bias, float eps, DeviceSpan<float> y, int rows);

    /// <summary>y = GELU(x), element-wise, exact (erf) or with the tanh approximation.</summary>
    void Gelu(DeviceSpan<float> x, DeviceSpan<float> y, GeluApproximation approximation);

    /// <summary>
    /// Attention without a mask or cache, as a vision encoder runs it over one image's tokens: q, k, v and output are
    /// [tokens, heads·headDim]; every token sees every token.
    /// </summary>
    void BidirectionalAttention(DeviceSpan<float> q, DeviceSpan<float> k, DeviceSpan<float> v, DeviceSpan<float> output, int tokens, int heads, int headDim, float scale);
}

/// <summary>Which GELU: the exact one (erf) or the tanh approximation (GPT-2's "gelu_new", ggml_gelu).</summary>
public enum GeluApproximation
{
    Erf,
    Tanh,
}
