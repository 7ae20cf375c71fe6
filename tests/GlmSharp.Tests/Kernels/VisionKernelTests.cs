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
        // Weights 1 and 1/3 summed and divided by their sum: a rounding or two from the exact 12.5.
        float[] expected = [12.5f, 1f, 12.5f, 1f], actual = _backend.ToArray(output);
        for (int i = 0; i < 4; i++) Assert.Equal(expected[i], actual[i], 5e-6f);
    }

    /// <summary>
    /// The flash-style kernel (query blocks of 96 walking key tiles of 64 with an online softmax) against the one-row-at-a-time
    /// reference, on every ISA this CPU runs with one thread and two: token counts that leave partial query blocks, six-row
    /// micro-tiles and key tiles (1, 7, 65, 257, 1100), head sizes on the two-register path (64, 128), with a one-register
    /// tail (72, 80 on AVX2) and off the vector width (2: one float at a time), and scores of several hundred that an
    /// unshifted exponential would overflow.
    /// </summary>
    [Theory]
    [InlineData(1, 1, 128, 2)]
    [InlineData(1, 1, 2, 2)]
    [InlineData(7, 2, 64, 2)]
    [InlineData(7, 2, 16, 2)]
    [InlineData(65, 3, 128, 2)]
    [InlineData(70, 3, 80, 2)]
    [InlineData(257, 2, 64, 2)]
    [InlineData(257, 2, 128, 30)]
    [InlineData(300, 1, 72, 2)]
    [InlineData(1100, 2, 72, 2)]
    public void Flash_Attention_Matches_The_Row_By_Row_Reference_On_Every_Isa(int tokens, int heads, int headDim, double magnitude)
    {
        var random = new Random(tokens * 31 + headDim);
        int width = heads * headDim;
        float[] Values(double range) => [.. Enumerable.Range(0, tokens * width).Select(_ => (float)((random.NextDouble() * 2 - 1) * range))];
        float[] q = Values(magnitude), k = Values(magnitude), v = Values(2);
        float scale = 1f / MathF.Sqrt(headDim);
        var expected = new float[tokens * width];
        CpuVisionOps.BidirectionalAttention(q, k, v, expected, tokens, heads, headDim, scale, new float[tokens]);
        float tolerance = Tolerance(q, k, v, tokens, heads, headDim, scale);

        foreach (var isa in Enum.GetValues<CpuIsa>().Where(CpuIsaSupport.IsSupported))
            foreach (int threads in (int[])[1, 2])
            {
                using var backend = new CpuBackend(threads, isa);
                var output = backend.Allocate<float>(tokens * width);
                backend.BidirectionalAttention(q.On(backend), k.On(backend), v.On(backend), output, tokens, heads, headDim, scale);
                var actual = backend.ToArray(output);
                for (int i = 0; i < actual.Length; i++)
                    Assert.True(Math.Abs(actual[i] - expected[i]) <= tolerance,
                        $"{isa}, {threads} threads: output {i} is {actual[i]}, the reference {expected[i]} (tolerance {tolerance})");
            }
    }

    /// <summary>
    /// How far two fp32 evaluations of the same attention may differ. A score summed in another order moves by up to a few
    /// ε·S (S the largest Σ_d |q_d·k_d|·scale), which moves its weight by that much relatively and an output — a convex
    /// combination of values — by that times max|v|; 8·ε·S allows for both sides' scores and the shifted exponential,
    /// and 64·ε·max|v| for the sums of weights and products taken in different orders.
    /// </summary>
    private static float Tolerance(float[] q, float[] k, float[] v, int tokens, int heads, int headDim, float scale)
    {
        int width = heads * headDim;
        double largest = 0;
        for (int h = 0; h < heads; h++)
            for (int t = 0; t < tokens; t++)
                for (int s = 0; s < tokens; s++)
                {
                    double sum = 0;
                    for (int d = 0; d < headDim; d++) sum += Math.Abs(q[t * width + h * headDim + d] * k[s * width + h * headDim + d]);
                    largest = Math.Max(largest, sum * scale);
                }
        double epsilon = Math.Pow(2, -23);
        return (float)(v.Max(Math.Abs) * epsilon * (8 * largest + 64));
    }
}
