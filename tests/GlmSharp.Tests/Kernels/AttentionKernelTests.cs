using GlmSharp.Errors;
using GlmSharp.Kernels;
using GlmSharp.Kernels.Cpu;
using GlmSharp.Tensors;
using GlmSharp.Tests.Support;

namespace GlmSharp.Tests.Kernels;

/// <summary>
/// Causal GQA attention of every kernel path and cache type against a double-precision softmax written out here,
/// over the keys and values as the cache type rounds them (fp16 by .NET's Half, Q8_0 as ggml-cpu quantizes) and
/// over queries rounded the same way, as llama.cpp rounds them to meet an F16 or Q8_0 cache. The cache is paged:
/// blocks of 16 positions (tiles shorter than a block) and 64 (a tile a block), scattered in the pool.
/// </summary>
public sealed class AttentionKernelTests
{
    /// <summary>heads, kv heads, head size, cached positions, new rows: GQA ratios 1, 3, 7; odd head counts; contexts
    /// of several 64-position tiles; single-row decodes that the kernel splits over positions (2 threads).</summary>
    private static readonly (int Heads, int KvHeads, int HeadDim, int Cached, int Rows)[] Shapes =
    [
        (6, 2, 128, 5, 4),
        (7, 1, 32, 150, 1),
        (4, 2, 64, 200, 1),
        (9, 3, 96, 130, 3),
        (5, 5, 8, 70, 2),
        (6, 3, 80, 65, 1),
    ];

    private static readonly CpuIsa[] Isas = [CpuIsa.Scalar, CpuIsa.Portable, CpuIsa.Avx2, CpuIsa.Avx512];

    public static TheoryData<CpuIsa, KvCacheType, int> Paths()
    {
        var data = new TheoryData<CpuIsa, KvCacheType, int>();
        foreach (var isa in Isas.Where(CpuIsaSupport.IsSupported))
            foreach (var type in Enum.GetValues<KvCacheType>())
                for (int shape = 0; shape < Shapes.Length; shape++)
                    if (type != KvCacheType.Q8_0 || Shapes[shape].HeadDim % Q8_0.BlockSize == 0)
                        data.Add(isa, type, shape);
        return data;
    }

    /// <summary>Positions per block for a shape: small blocks for odd shapes, so both tile regimes are covered.</summary>
    private static int BlockPositionsFor(int shape) => shape % 2 == 0 ? 64 : 16;

    private static float[] RandomValues(Random random, int n) => Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();

    /// <summary>The values a cache of this type hands back: each head row rounded on its own, as the cache stores it.</summary>
    private static float[] AsStored(float[] rows, int headDim, KvCacheType type)
    {
        var stored = rows.ToArray();
        if (type == KvCacheType.F16)
            for (int i = 0; i < stored.Length; i++) stored[i] = (float)(Half)stored[i];
        if (type == KvCacheType.Q8_0)
            for (int at = 0; at < stored.Length; at += headDim) RoundThroughQ8_0(stored.AsSpan(at, headDim));
        return stored;
    }

    /// <summary>ggml-cpu's Q8_0 rounding on x86: d = fp16(amax / 127), code = round-half-even(x · 127 / amax), value = d · code.</summary>
    private static void RoundThroughQ8_0(Span<float> row)
    {
        for (int b = 0; b < row.Length; b += 32)
        {
            var block = row.Slice(b, 32);
            float amax = 0;
            foreach (float v in block) amax = MathF.Max(amax, MathF.Abs(v));
            float d = (float)(Half)(amax / 127f), inverse = amax != 0 ? 127f / amax : 0;
            for (int j = 0; j < 32; j++) block[j] = d * MathF.Round(block[j] * inverse, MidpointRounding.ToEven);
        }
    }

    private sealed record Case(float[] Q, float[] Keys, float[] Values, int Heads, int KvHeads, int HeadDim, int Cached, int Rows)
    {
        public float Scale => 1f / MathF.Sqrt(HeadDim);
    }

    private static Case MakeCase(int shape, int seed)
    {
        var (heads, kvHeads, headDim, cached, rows) = Shapes[shape];
        var random = new Random(seed);
        int width = kvHeads * headDim;
        return new Case(RandomValues(random, rows * heads * headDim), RandomValues(random, (cached + rows) * width),
            RandomValues(random, (cached + rows) * width), heads, kvHeads, headDim, cached, rows);
    }

    private static float[] Run(CpuIsa isa, KvCacheType type, Case c, int shape)
    {
        int width = c.KvHeads * c.HeadDim;
        using var backend = new CpuBackend(threads: 2, isa);
        using var cache = new SingleLayerCache(c.Cached + c.Rows, c.KvHeads, c.HeadDim, type, BlockPositionsFor(shape), scatter: true);
        cache.Append(backend, c.Keys.AsSpan(0, c.Cached * width), c.Values.AsSpan(0, c.Cached * width));
        cache.Append(backend, c.Keys.AsSpan(c.Cached * width), c.Values.AsSpan(c.Cached * width));
        return cache.Attend(backend, c.Q, c.Cached, c.Rows, c.Heads, c.Scale);
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void Attention_Matches_A_Double_Precision_Softmax_Over_The_Values_The_Cache_Stores(CpuIsa isa, KvCacheType type, int shape)
    {
        var c = MakeCase(shape, seed: 100 + shape);
        var output = Run(isa, type, c, shape);
        var keys = AsStored(c.Keys, c.HeadDim, type);
        var values = AsStored(c.Values, c.HeadDim, type);
        var queries = AsStored(c.Q, c.HeadDim, type);
        int headDim = c.HeadDim, heads = c.Heads, kvHeads = c.KvHeads;
        for (int r = 0; r < c.Rows; r++)
            for (int h = 0; h < heads; h++)
            {
                int kv = h / (heads / kvHeads), visible = c.Cached + r + 1;
                var scores = new double[visible];
                for (int p = 0; p < visible; p++)
                    for (int d = 0; d < headDim; d++)
                        scores[p] += (double)queries[(r * heads + h) * headDim + d] * keys[(p * kvHeads + kv) * headDim + d] * c.Scale;
                double max = scores.Max(), total = scores.Sum(s => Math.Exp(s - max));
                for (int d = 0; d < headDim; d++)
                {
                    double expected = 0;
                    for (int p = 0; p < visible; p++) expected += Math.Exp(scores[p] - max) / total * values[(p * kvHeads + kv) * headDim + d];
                    Assert.True(Math.Abs(expected - output[(r * heads + h) * headDim + d]) <= 1e-5,
                        $"{isa} {type} {Shapes[shape]} row {r} head {h} dim {d}: {output[(r * heads + h) * headDim + d]} vs {expected}");
                }
            }
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void Every_Path_Agrees_With_The_Scalar_Reference(CpuIsa isa, KvCacheType type, int shape)
    {
        var c = MakeCase(shape, seed: 200 + shape);
        var reference = Run(CpuIsa.Scalar, type, c, shape);
        var output = Run(isa, type, c, shape);
        for (int i = 0; i < output.Length; i++)
            Assert.True(Math.Abs(reference[i] - output[i]) <= 1e-5, $"{isa} {type} {Shapes[shape]} element {i}: {output[i]} vs scalar {reference[i]}");
    }

    [Fact]
    public void A_Q8_0_Cache_For_A_Head_Size_That_Is_Not_A_Multiple_Of_32_Is_Refused_Naming_The_Head_Size()
    {
        var error = Assert.Throws<UnsupportedModelException>(() => new SingleLayerCache(4, kvHeads: 2, headDim: 80, KvCacheType.Q8_0));
        Assert.Contains("head size is 80", error.Message);
        Assert.Contains("multiple of 32", error.Message);
    }

    [Theory]
    [InlineData(KvCacheType.F32, 2 * 2 * 128 * 4)]
    [InlineData(KvCacheType.F16, 2 * 2 * 128 * 2)]
    [InlineData(KvCacheType.Q8_0, 2 * 2 * 4 * 34)]
    public void A_Cached_Position_Takes_The_Bytes_Of_Its_Element_Type(KvCacheType type, long bytes)
    {
        using var cache = new SingleLayerCache(8, kvHeads: 2, headDim: 128, type);
        Assert.Equal(bytes, cache.Pool.BytesPerBlock / cache.Pool.BlockPositions);
    }

    [Fact]
    public void A_Disposed_Cache_Cannot_Be_Written_Or_Attended()
    {
        var cache = new SingleLayerCache(2, kvHeads: 1, headDim: 4, KvCacheType.F16);
        cache.Dispose();
        var row = new float[4];
        Assert.Throws<ObjectDisposedException>(() => cache.Append(CpuBackend.Instance, row, row));
        Assert.Throws<ObjectDisposedException>(() => cache.Attend(CpuBackend.Instance, row, 0, 1, 1, 1f));
    }
}
