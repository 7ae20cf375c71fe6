using GlmSharp.Errors;
using GlmSharp.Kernels;
using GlmSharp.Kernels.Cpu;

namespace GlmSharp.Tests.Kernels;

/// <summary>Causal GQA attention of every kernel path against a double-precision softmax written out here.</summary>
public sealed class AttentionKernelTests
{
    public static TheoryData<CpuIsa, int> Paths()
    {
        var data = new TheoryData<CpuIsa, int>();
        foreach (var isa in new[] { CpuIsa.Scalar, CpuIsa.Portable, CpuIsa.Avx2, CpuIsa.Avx512 })
            if (CpuIsaSupport.IsSupported(isa))
                foreach (int headDim in new[] { 8, 80, 128 })
                    data.Add(isa, headDim);
        return data;
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void Attention_Matches_A_Double_Precision_Reference_For_Gqa_And_Offset_Positions(CpuIsa isa, int headDim)
    {
        const int heads = 6, kvHeads = 2, cached = 5, rows = 4;
        var random = new Random(headDim);
        float[] Random(int n) => Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        var cache = new LayerKvCache(capacity: 16, kvHeads, headDim);
        var keys = Random((cached + rows) * kvHeads * headDim);
        var values = Random((cached + rows) * kvHeads * headDim);
        cache.Write(0, keys.AsSpan(0, cached * kvHeads * headDim), values.AsSpan(0, cached * kvHeads * headDim));
        cache.Write(cached, keys.AsSpan(cached * kvHeads * headDim), values.AsSpan(cached * kvHeads * headDim));
        var q = Random(rows * heads * headDim);
        var output = new float[q.Length];
        float scale = 1f / MathF.Sqrt(headDim);
        using var backend = new CpuBackend(threads: 2, isa);
        backend.Attention(q, rows, cached, cache, output, heads, scale);

        for (int r = 0; r < rows; r++)
            for (int h = 0; h < heads; h++)
            {
                int kv = h / (heads / kvHeads), visible = cached + r + 1;
                var scores = new double[visible];
                for (int p = 0; p < visible; p++)
                    for (int d = 0; d < headDim; d++)
                        scores[p] += (double)q[(r * heads + h) * headDim + d] * keys[(p * kvHeads + kv) * headDim + d] * scale;
                double max = scores.Max(), total = scores.Sum(s => Math.Exp(s - max));
                for (int d = 0; d < headDim; d++)
                {
                    double expected = 0;
                    for (int p = 0; p < visible; p++) expected += Math.Exp(scores[p] - max) / total * values[(p * kvHeads + kv) * headDim + d];
                    Assert.True(Math.Abs(expected - output[(r * heads + h) * headDim + d]) <= 1e-5, $"{isa} d{headDim} row {r} head {h} dim {d}");
                }
            }
    }

    [Fact]
    public void Writing_Past_The_Cache_Capacity_Is_A_Context_Limit_Error()
    {
        var cache = new LayerKvCache(capacity: 2, kvHeads: 1, headDim: 4);
        var row = new float[3 * 4];
        Assert.Throws<ContextLimitException>(() => cache.Write(0, row, row));
    }
}
