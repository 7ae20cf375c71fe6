using GlmSharp.Kernels;
using GlmSharp.Kernels.Cpu;
using GlmSharp.Tensors;
using GlmSharp.Tests.Support;

namespace GlmSharp.Tests.Kernels;

/// <summary>
/// MLA's absorbed attention (one cached row per position, [rope ; latent], read whole as every head's key and from the
/// rope width on as the value) on every kernel path and cache type, against a double-precision softmax written out here
/// over the rows as the cache rounds them, queries rounded alike. Paged as in <see cref="AttentionKernelTests"/>.
/// </summary>
public sealed class LatentAttentionKernelTests
{
    /// <summary>
    /// heads, rope width, latent width, cached positions, new rows: GLM-4.7-Flash's decode (20 heads over 64 + 512), odd sizes,
    /// prefills, a context of 1,200 positions over 75 scattered blocks of 16, and GLM-5's decode (64 heads over 64 + 512)
    /// with its positions split between the threads, the last split a partial tile.
    /// </summary>
    private static readonly (int Heads, int Rope, int Latent, int Cached, int Rows)[] Shapes =
    [
        (20, 64, 512, 130, 1),
        (4, 16, 32, 5, 3),
        (3, 8, 24, 70, 2),
        (6, 32, 64, 200, 1),
        (5, 32, 96, 64, 4),
        (8, 32, 64, 1200, 2),
        (64, 64, 512, 290, 1),
    ];

    public static TheoryData<CpuIsa, KvCacheType, int> Paths()
    {
        var data = new TheoryData<CpuIsa, KvCacheType, int>();
        foreach (var isa in (CpuIsa[])[CpuIsa.Scalar, CpuIsa.Portable, CpuIsa.Avx2, CpuIsa.Avx512])
            if (CpuIsaSupport.IsSupported(isa))
                foreach (var type in Enum.GetValues<KvCacheType>())
                    for (int shape = 0; shape < Shapes.Length; shape++)
                        if (type != KvCacheType.Q8_0 || (Shapes[shape].Rope % Q8_0.BlockSize == 0 && Shapes[shape].Latent % Q8_0.BlockSize == 0))
                            data.Add(isa, type, shape);
        return data;
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void Latent_Attention_Matches_A_Double_Precision_Softmax_Over_The_Stored_Rows(CpuIsa isa, KvCacheType type, int shape) =>
        AssertMatchesSoftmax(isa, type, shape, topK: null);

    /// <summary>
    /// DeepSeek sparse attention: each row that sees more than top-k positions attends to a random choice of them (spread over
    /// tiles and, on one-row decodes, over the splits of the positions), the others to all.
    /// </summary>
    [Theory]
    [MemberData(nameof(Paths))]
    public void Sparse_Latent_Attention_Matches_A_Softmax_Over_The_Chosen_Rows(CpuIsa isa, KvCacheType type, int shape) =>
        AssertMatchesSoftmax(isa, type, shape, topK: Math.Max(1, Shapes[shape].Cached / 3));

    /// <summary>
    /// Top-k at its edges, on the prefill of 4 rows over 64 cached positions (the rows see 65 to 68) and the 1,200-position
    /// decode: one chosen position; top-k 66, which leaves two rows dense and gathers for two; top-k of every visible position
    /// (dense throughout); and on the long context, 700 chosen positions, more than one thread's split.
    /// </summary>
    [Theory]
    [MemberData(nameof(TopKEdges))]
    public void Sparse_Latent_Attention_At_The_Edges_Of_Top_K(CpuIsa isa, KvCacheType type, int shape, int topK) =>
        AssertMatchesSoftmax(isa, type, shape, topK);

    public static TheoryData<CpuIsa, KvCacheType, int, int> TopKEdges()
    {
        var data = new TheoryData<CpuIsa, KvCacheType, int, int>();
        foreach (var isa in (CpuIsa[])[CpuIsa.Scalar, CpuIsa.Avx2, CpuIsa.Avx512])
            if (CpuIsaSupport.IsSupported(isa))
                foreach (var type in Enum.GetValues<KvCacheType>())
                {
                    foreach (int topK in (int[])[1, 66, 68])
                        data.Add(isa, type, 4, topK);
                    foreach (int topK in (int[])[1, 700])
                        data.Add(isa, type, 5, topK);
                }
        return data;
    }

    private static void AssertMatchesSoftmax(CpuIsa isa, KvCacheType type, int shape, int? topK)
    {
        var (heads, rope, latent, cached, rows) = Shapes[shape];
        int width = rope + latent;
        var random = new Random(300 + shape);
        var q = Enumerable.Range(0, rows * heads * width).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        var cacheRows = Enumerable.Range(0, (cached + rows) * width).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        float scale = 1f / MathF.Sqrt(40);
        int k = topK ?? cached + rows;
        var chosen = new int[rows * k];
        for (int r = 0; r < rows && topK is not null; r++)
            if (cached + r + 1 > k)
                Enumerable.Range(0, cached + r + 1).OrderBy(_ => random.Next()).Take(k).Order().ToArray().CopyTo(chosen, r * k);

        using var backend = new CpuBackend(threads: 2, isa);
        using var cache = SingleLayerCache.Latents(cached + rows, width, type, shape % 2 == 0 ? 64 : 16, scatter: true);
        cache.AppendKeys(backend, cacheRows.AsSpan(0, cached * width));
        cache.AppendKeys(backend, cacheRows.AsSpan(cached * width));
        var output = topK is null
            ? cache.AttendLatent(backend, q, cached, rows, heads, valueOffset: rope, valueWidth: latent, scale)
            : cache.AttendSparseLatent(backend, q, cached, rows, heads, valueOffset: rope, valueWidth: latent, scale, chosen, k);

        var stored = RoundedAsCached(cacheRows, width, type);
        var queries = RoundedAsCached(q, width, type);
        for (int r = 0; r < rows; r++)
            for (int h = 0; h < heads; h++)
            {
                int visible = cached + r + 1;
                int[] attended = visible > k ? chosen[(r * k)..((r + 1) * k)] : [.. Enumerable.Range(0, visible)];
                var scores = new double[attended.Length];
                for (int i = 0; i < attended.Length; i++)
                    for (int d = 0; d < width; d++)
                        scores[i] += (double)queries[(r * heads + h) * width + d] * stored[attended[i] * width + d] * scale;
                double max = scores.Max(), total = scores.Sum(s => Math.Exp(s - max));
                for (int d = 0; d < latent; d++)
                {
                    double expected = 0;
                    for (int i = 0; i < attended.Length; i++) expected += Math.Exp(scores[i] - max) / total * stored[attended[i] * width + rope + d];
                    float actual = output[(r * heads + h) * latent + d];
                    Assert.True(Math.Abs(expected - actual) <= 1e-5, $"{isa} {type} {Shapes[shape]} top-{topK} row {r} head {h} dim {d}: {actual} vs {expected}");
                }
            }
    }

    /// <summary>Each row rounded as the cache type stores it: fp16, or ggml-cpu's Q8_0 (d = fp16(amax / 127), codes rounded half to even).</summary>
    private static float[] RoundedAsCached(float[] values, int width, KvCacheType type)
    {
        var rounded = values.ToArray();
        if (type == KvCacheType.F16)
            for (int i = 0; i < rounded.Length; i++) rounded[i] = (float)(Half)rounded[i];
        if (type == KvCacheType.Q8_0)
            for (int b = 0; b < rounded.Length; b += Q8_0.BlockSize)
            {
                var block = rounded.AsSpan(b, Q8_0.BlockSize);
                float amax = 0;
                foreach (float v in block) amax = MathF.Max(amax, MathF.Abs(v));
                float d = (float)(Half)(amax / 127f), inverse = amax != 0 ? 127f / amax : 0;
                for (int j = 0; j < block.Length; j++) block[j] = d * MathF.Round(block[j] * inverse, MidpointRounding.ToEven);
            }
        return rounded;
    }

    [Fact]
    public void A_Q8_0_Value_Offset_Inside_A_Block_Is_Refused()
    {
        using var cache = SingleLayerCache.Latents(4, 64, KvCacheType.Q8_0, 16, scatter: false);
        cache.AppendKeys(CpuBackend.Instance, new float[64]);
        var error = Assert.Throws<ArgumentException>(() => cache.AttendLatent(CpuBackend.Instance, new float[2 * 64], 0, 1, 2, valueOffset: 16, valueWidth: 48, 1f));
        Assert.Contains("32-value block", error.Message);
    }
}
