using GlmSharp.Kernels;
using GlmSharp.Kernels.Cpu;
using GlmSharp.Tests.Support;

namespace GlmSharp.Tests.Kernels;

/// <summary>Closed-form checks of the vision encoder's blocks.</summary>
public sealed class VisionKernelTests
{
    private readonly IComputeBackend _backend = CpuBackend.Instance;

    [Fact]
    public void LayerNorm_Centres_Scales_And_Shifts_Each_Row()
    {
        // Row 1 2 3 4: mean 2.5, variance 1.25.
        float[] x = [1, 2, 3, 4, 5, 5, 5, 5];
        var normed = _backend.Allocate<float>(8);
        _backend.LayerNorm(x.On(_backend), new float[] { 1, 1, 2, 2 }.On(_backend), new float[] { 0, 0, 0, 1 }.On(_backend), 1e-6f, normed, rows: 2);
        var y = _backend.ToArray(normed);
        float s = 1f / MathF.Sqrt(1.25f + 1e-6f);
        float[] expected = [-1.5f * s, -0.5f * s, 2 * 0.5f * s, 2 * 1.5f * s + 1, 0, 0, 0, 1];
        for (int i = 0; i < 8; i++) Assert.Equal(expected[i], y[i], 5);
    }

    [Theory]
    [InlineData(0.5, 0.5204998778130465)]
    [InlineData(1.0, 0.8427007929497149)]
    [InlineData(-2.0, -0.9953222650189527)]
    [InlineData(0.0, 0.0)]
    public void Erf_Matches_Tabulated_Values(double x, double expected) =>
        Assert.True(Math.Abs(CpuVisionOps.Erf(x) - expected) <= 2e-7, $"erf({x}) = {CpuVisionOps.Erf(x)}, expected {expected}");

    [Fact]
    public void Gelu_Exact_And_Tanh_Forms_Match_Their_Definitions()
    {
        float[] x = [-1, 0, 1, 3];
        var exact = Gelu(x, GeluApproximation.Erf);
        var tanh = Gelu(x, GeluApproximation.Tanh);
        // x·Φ(x): Φ(1) = 0.841344746, Φ(3) = 0.998650102.
        Assert.Equal(-1 * (1 - 0.841344746f), exact[0], 6);
        Assert.Equal(0f, exact[1]);
        Assert.Equal(0.841344746f, exact[2], 6);
        Assert.Equal(3 * 0.998650102f, exact[3], 5);
        Assert.Equal(0.5f * (1 + MathF.Tanh(MathF.Sqrt(2 / MathF.PI) * (1 + 0.044715f))), tanh[2], 6);
    }

    private float[] Gelu(float[] x, GeluApproximation approximation)
    {
        var y = _backend.Allocate<float>(x.Length);
        _backend.Gelu(x.On(_backend), y, approximation);
        return _backend.ToArray(y);
    }

    [Fact]
    public void Bidirectional_Attention_Lets_Every_Token_See_Every_Token()
    {
        // Keys (ln 3, 0) and (0, 0) for one head; queries (1, 0): weights 3:1 for every token, earlier or later.
        float ln3 = MathF.Log(3);
        float[] q = [1, 0, 1, 0];
        float[] k = [ln3, 0, 0, 0];
        float[] v = [10, 0, 20, 4];
        var output = _backend.Allocate<float>(4);
        _backend.BidirectionalAttention(q.On(_backend), k.On(_backend), v.On(_backend), output, tokens: 2, heads: 1, headDim: 2, scale: 1);
        Assert.Equal([12.5f, 1f, 12.5f, 1f], _backend.ToArray(output));
    }

    /// <summary>
    /// The attention through the float GEMM (each head's scores for chunks of 256 queries, then scores·v) against the
    /// one-row-at-a-time reference on every ISA this CPU runs, at token counts that leave a partial chunk and head sizes
    /// that leave partial GEMM tiles.
    /// </summary>
    [Theory]
    [InlineData(1, 1, 2)]
    [InlineData(7, 2, 16)]
    [InlineData(70, 3, 80)]
    [InlineData(130, 2, 128)]
    [InlineData(200, 1, 32)]
    [InlineData(1100, 2, 72)]
    public void Gemm_Attention_Matches_The_Row_By_Row_Reference_On_Every_Isa(int tokens, int heads, int headDim)
    {
        var random = new Random(tokens * 31 + headDim);
        int width = heads * headDim;
        float[] Values() => [.. Enumerable.Range(0, tokens * width).Select(_ => (float)(random.NextDouble() * 4 - 2))];
        float[] q = Values(), k = Values(), v = Values();
        float scale = 1f / MathF.Sqrt(headDim);
        var expected = new float[tokens * width];
        CpuVisionOps.BidirectionalAttention(q, k, v, expected, tokens, heads, headDim, scale, new float[tokens]);

        foreach (var isa in Enum.GetValues<CpuIsa>().Where(CpuIsaSupport.IsSupported))
        {
            using var backend = new CpuBackend(2, isa);
            var output = backend.Allocate<float>(tokens * width);
            backend.BidirectionalAttention(q.On(backend), k.On(backend), v.On(backend), output, tokens, heads, headDim, scale);
            var actual = backend.ToArray(output);
            for (int i = 0; i < actual.Length; i++)
                Assert.True(Math.Abs(actual[i] - expected[i]) <= 2e-5f, $"{isa}: output {i} is {actual[i]}, the reference {expected[i]}");
        }
    }
}
