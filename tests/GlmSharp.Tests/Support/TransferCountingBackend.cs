using GlmSharp.Kernels;
using GlmSharp.Kernels.Paging;
using GlmSharp.Tensors;

namespace GlmSharp.Tests.Support;

/// <summary>
/// The CPU backend, counting what crosses between host and backend memory: what a model would move over PCIe if the
/// backend were an accelerator.
/// </summary>
internal sealed class TransferCountingBackend(IComputeBackend inner) : IComputeBackend
{
    public long UploadedBytes { get; private set; }
    public long DownloadedBytes { get; private set; }
    public int Allocations { get; private set; }

    /// <summary>The expert ids of every <see cref="MatMulExperts"/> call, [rows, slots] each (read without counting).</summary>
    public List<int[]> ExpertChoices { get; } = [];

    public string Name => "counting " + inner.Name;

    public void ResetCounts() => (UploadedBytes, DownloadedBytes, Allocations) = (0, 0, 0);

    public DeviceMemory Allocate(long bytes)
    {
        Allocations++;
        return inner.Allocate(bytes);
    }

    public void Upload<T>(ReadOnlySpan<T> source, DeviceSpan<T> destination) where T : unmanaged
    {
        UploadedBytes += (long)source.Length * System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
        inner.Upload(source, destination);
    }

    public void Download<T>(DeviceSpan<T> source, Span<T> destination) where T : unmanaged
    {
        DownloadedBytes += (long)source.Length * System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
        inner.Download(source, destination);
    }

    public void Copy<T>(DeviceSpan<T> source, DeviceSpan<T> destination) where T : unmanaged => inner.Copy(source, destination);
    public TensorView PrepareMatrix(TensorView stored) => inner.PrepareMatrix(stored);
    public void MatMul(TensorView weight, DeviceSpan<float> x, DeviceSpan<float> y, int rows) => inner.MatMul(weight, x, y, rows);
    public void MatMul(ReadOnlySpan<TensorView> weights, DeviceSpan<float> x, DeviceSpan<float> y, int rows) => inner.MatMul(weights, x, y, rows);
    public void GatherRows(TensorView table, ReadOnlySpan<int> ids, DeviceSpan<float> destination) => inner.GatherRows(table, ids, destination);
    public void RmsNorm(DeviceSpan<float> x, DeviceSpan<float> weight, float eps, DeviceSpan<float> y, int rows) => inner.RmsNorm(x, weight, eps, y, rows);
    public void AddBias(DeviceSpan<float> x, DeviceSpan<float> bias, int rows) => inner.AddBias(x, bias, rows);
    public void Add(DeviceSpan<float> x, DeviceSpan<float> y) => inner.Add(x, y);
    public void Fill(DeviceSpan<float> x, float value) => inner.Fill(x, value);
    public void SwiGlu(DeviceSpan<float> gateUp, DeviceSpan<float> output, int rows, int intermediate) => inner.SwiGlu(gateUp, output, rows, intermediate);
    public void SwiGlu(DeviceSpan<float> gate, DeviceSpan<float> up, DeviceSpan<float> output, int rows, int width) => inner.SwiGlu(gate, up, output, rows, width);
    public void Rope(DeviceSpan<float> x, int rows, int heads, int headDim, ReadOnlySpan<int> positions, RopeTable rope) => inner.Rope(x, rows, heads, headDim, positions, rope);
    public void StoreRows(PagedStream stream, CacheRows rows, DeviceSpan<float> values) => inner.StoreRows(stream, rows, values);
    public void Attention(DeviceSpan<float> q, CacheRows rows, PagedStream keys, PagedStream values, DeviceSpan<float> output, int heads, float scale) =>
        inner.Attention(q, rows, keys, values, output, heads, scale);
    public void RouteExperts(DeviceSpan<float> logits, int rows, MoeRouting routing, DeviceSpan<int> experts, DeviceSpan<float> weights) =>
        inner.RouteExperts(logits, rows, routing, experts, weights);
    public void MatMulExperts(ReadOnlySpan<TensorView> experts, DeviceSpan<float> x, bool inputPerSlot, DeviceSpan<int> ids, int rows, int slots, DeviceSpan<float> y)
    {
        ExpertChoices.Add(inner.ToArray(ids.Take(rows * slots)));
        inner.MatMulExperts(experts, x, inputPerSlot, ids, rows, slots, y);
    }
    public void MatMulExperts(ReadOnlySpan<TensorView> gate, ReadOnlySpan<TensorView> up, DeviceSpan<float> x, DeviceSpan<int> ids, int rows, int slots,
        DeviceSpan<float> gateOut, DeviceSpan<float> upOut)
    {
        ExpertChoices.Add(inner.ToArray(ids.Take(rows * slots)));
        inner.MatMulExperts(gate, up, x, ids, rows, slots, gateOut, upOut);
    }

    public void AddWeightedSlots(DeviceSpan<float> output, DeviceSpan<float> y, DeviceSpan<float> weights, int rows, int slots) =>
        inner.AddWeightedSlots(output, y, weights, rows, slots);
    public void LayerNorm(DeviceSpan<float> x, DeviceSpan<float> weight, DeviceSpan<float> bias, float eps, DeviceSpan<float> y, int rows) =>
        inner.LayerNorm(x, weight, bias, eps, y, rows);
    public void Gelu(DeviceSpan<float> x, DeviceSpan<float> y, GeluApproximation approximation) => inner.Gelu(x, y, approximation);
    public void LatentAttention(DeviceSpan<float> q, CacheRows rows, PagedStream latents, int valueOffset, int valueWidth, DeviceSpan<float> output, int heads, float scale) =>
        inner.LatentAttention(q, rows, latents, valueOffset, valueWidth, output, heads, scale);

    public void SparseLatentAttention(DeviceSpan<float> q, CacheRows rows, PagedStream latents, int valueOffset, int valueWidth, DeviceSpan<float> output, int heads,
        float scale, KeySelection selection) =>
        inner.SparseLatentAttention(q, rows, latents, valueOffset, valueWidth, output, heads, scale, selection);

    public void SelectKeys(DeviceSpan<float> q, DeviceSpan<float> weights, CacheRows rows, PagedStream keys, int heads, KeySelection selection) =>
        inner.SelectKeys(q, weights, rows, keys, heads, selection);

    public void BidirectionalAttention(DeviceSpan<float> q, DeviceSpan<float> k, DeviceSpan<float> v, DeviceSpan<float> output, int tokens, int heads, int headDim, float scale) =>
        inner.BidirectionalAttention(q, k, v, output, tokens, heads, headDim, scale);
}
