using GlmSharp.Kernels;
using GlmSharp.Kernels.Cpu;
using GlmSharp.Tests.Support;

namespace GlmSharp.Tests.Models;

/// <summary>Closed-form checks of the CPU backend's element-wise kernels.</summary>
public sealed class CpuBackendTests
{
    private readonly IComputeBackend _backend = CpuBackend.Instance;

    [Fact]
    public void RmsNorm_Divides_By_The_Root_Mean_Square_Then_Scales_By_The_Plain_Weight()
    {
        // row (3, 4): mean of squares 12.5; with eps 0 each value is divided by sqrt(12.5).
        float[] x = [3, 4, 1, 1];
        var y = RmsNorm(x, [2f, 0.5f], 0f, rows: 2);
        float r = MathF.Sqrt(12.5f);
        Assert.Equal(2 * 3 / r, y[0], 5);
        Assert.Equal(0.5f * 4 / r, y[1], 5);
        Assert.Equal(2f, y[2], 5);
        Assert.Equal(0.5f, y[3], 5);
    }

    private float[] RmsNorm(float[] x, float[] weight, float eps, int rows)
    {
        var y = _backend.Allocate<float>(x.Length);
        _backend.RmsNorm(x.On(_backend), weight.On(_backend), eps, y, rows);
        return _backend.ToArray(y);
    }

    [Fact]
    public void RmsNorm_Eps_Is_Added_To_The_Mean_Square()
    {
        var y = RmsNorm([2f], [1f], 12f, 1);
        Assert.Equal(2f / 4f, y[0], 6);
    }

    [Fact]
    public void SwiGlu_Takes_Gate_From_The_First_Half_And_Up_From_The_Second()
    {
        float[] gateUp = [1, -2, 3, 5];
        var activated = _backend.Allocate<float>(2);
        _backend.SwiGlu(gateUp.On(_backend), activated, rows: 1, intermediate: 2);
        var output = _backend.ToArray(activated);
        static float Silu(float v) => v / (1 + MathF.Exp(-v));
        Assert.Equal(Silu(1) * 3, output[0], 5);
        Assert.Equal(Silu(-2) * 5, output[1], 5);
    }

    [Fact]
    public void Attention_Of_A_Single_Cached_Position_Returns_Its_Value()
    {
        using var cache = new SingleLayerCache(4, kvHeads: 1, headDim: 2, KvCacheType.F32);
        cache.Append(_backend, [0.3f, -0.7f], [5f, 6f]);
        var output = cache.Attend(_backend, [1, 2, -3, 4], first: 0, rows: 1, heads: 2, scale: 1);
        Assert.Equal([5f, 6f, 5f, 6f], output);
    }

    [Fact]
    public void Attention_Is_Causal_And_Weights_By_Softmax_Of_Scaled_Scores()
    {
        // Two positions; keys (1,0) and (0,1), values 10 and 20. Query (ln 3, 0) at scale 1:
        // position 0 sees only itself → 10; position 1 sees both with weights e^{ln3}:e^0 = 3:1 → 12.5.
        using var cache = new SingleLayerCache(2, kvHeads: 1, headDim: 2, KvCacheType.F32);
        cache.Append(_backend, [1, 0, 0, 1], [10, 10, 20, 20]);
        float ln3 = MathF.Log(3);
        var output = cache.Attend(_backend, [ln3, 0, ln3, 0], first: 0, rows: 2, heads: 1, scale: 1);
        Assert.Equal(10f, output[0], 4);
        Assert.Equal(12.5f, output[2], 4);
    }
}
