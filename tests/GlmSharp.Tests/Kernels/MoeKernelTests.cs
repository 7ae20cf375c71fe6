using GlmSharp.Kernels;
using GlmSharp.Kernels.Cpu;
using GlmSharp.Tensors;
using GlmSharp.Tests.Support;

namespace GlmSharp.Tests.Kernels;

/// <summary>Routers rigged so the choice and the weights can be worked out by hand; the grouped expert product against one row at a time.</summary>
public sealed class MoeKernelTests
{
    private readonly IComputeBackend _backend = CpuBackend.Instance;

    private static float Logit(double p) => (float)Math.Log(p / (1 - p));

    private (int[] Experts, float[] Weights) Route(float[] logits, int rows, MoeRouting routing)
    {
        var experts = _backend.Allocate<int>(rows * routing.ExpertsPerRow);
        var weights = _backend.Allocate<float>(rows * routing.ExpertsPerRow);
        _backend.RouteExperts(logits.On(_backend), rows, routing, experts, weights);
        return (_backend.ToArray(experts), _backend.ToArray(weights));
    }

    [Fact]
    public void Sigmoid_Routing_Chooses_By_Biased_Score_But_Weighs_By_The_Unbiased_One()
    {
        // Scores 0.9, 0.8, 0.7, 0.1; the bias lifts expert 3 above expert 1 for choosing only.
        float[] logits = [Logit(0.9), Logit(0.8), Logit(0.7), Logit(0.1)];
        var routing = new MoeRouting(4, 2, ExpertScoring.Sigmoid) { SelectionBias = [0, 0, 0, 0.75f], NormalizeWeights = true, WeightScale = 2.5f };
        var (experts, weights) = Route(logits, 1, routing);
        Assert.Equal([0, 3], experts);
        Assert.Equal(2.5 * 0.9 / (0.9 + 0.1), weights[0], 5);
        Assert.Equal(2.5 * 0.1 / (0.9 + 0.1), weights[1], 5);
    }

    [Fact]
    public void Grouped_Routing_Takes_Experts_Only_From_The_Groups_Whose_Two_Best_Scores_Sum_Highest()
    {
        // Groups {0,1} {2,3} {4,5} {6,7}: sums of their two scores 0.5+0.5, 0.95+0.02, 0.6+0.6, 0.3+0.3.
        // Keeping two groups keeps {0,1} and {4,5}: expert 2 (the single best, 0.95) is not eligible.
        double[] p = [0.5, 0.5, 0.95, 0.02, 0.6, 0.6, 0.3, 0.3];
        var logits = p.Select(Logit).ToArray();
        var routing = new MoeRouting(8, 3, ExpertScoring.Sigmoid) { Groups = 4, GroupsKept = 2, NormalizeWeights = false };
        var (experts, weights) = Route(logits, 1, routing);
        Assert.Equal([4, 5, 0], experts);
        Assert.Equal(0.6f, weights[0], 5);
        Assert.Equal(0.5f, weights[2], 5);
    }

    [Fact]
    public void Softmax_Routing_Weighs_By_Softmax_Over_All_Experts_Unless_Normalised()
    {
        float[] logits = [MathF.Log(1), MathF.Log(2), MathF.Log(3), MathF.Log(4), MathF.Log(4), MathF.Log(2), MathF.Log(1), MathF.Log(1)];
        var routing = new MoeRouting(4, 2, ExpertScoring.Softmax) { NormalizeWeights = false };
        var (experts, weights) = Route(logits, 2, routing);
        Assert.Equal([3, 2, 0, 1], experts); // a tie goes to the lower id
        Assert.Equal(0.4f, weights[0], 5);
        Assert.Equal(0.3f, weights[1], 5);
        Assert.Equal(0.5f, weights[2], 5);
        Assert.Equal(0.25f, weights[3], 5);
    }

    [Fact]
    public void A_Router_That_Cannot_Supply_Its_Experts_Is_Refused()
    {
        var routing = new MoeRouting(8, 5, ExpertScoring.Sigmoid) { Groups = 4, GroupsKept = 2 };
        Assert.Contains("cannot supply 5 experts", Assert.Throws<ArgumentException>(() => Route(new float[8], 1, routing)).Message);
    }

    [Theory]
    [InlineData(GgmlType.F32, false)]
    [InlineData(GgmlType.Q8_0, true)]
    [InlineData(GgmlType.Q4_K, false)]
    [InlineData(GgmlType.Q5_K, true)]
    public unsafe void Expert_Products_Of_A_Merged_Stack_Equal_Each_Row_Times_Its_Expert(GgmlType type, bool inputPerSlot)
    {
        const int experts = 6, outputs = 40, inputs = 256, rows = 5, slots = 3;
        using var stack = new TestMatrix(type, experts * outputs, inputs, seed: 4);
        var merged = new TensorView("blk.0.ffn_up_exps.weight", type, [experts, outputs, inputs], stack.View.Data, stack.View.ByteLength, "test");
        var views = Enumerable.Range(0, experts).Select(e => merged.Slice(e)).ToArray();
        int[] ids = [0, 5, 2, 5, 1, 0, 3, 3, 2, 4, 0, 1, 5, 4, 2];
        var x = TestMatrix.RandomActivations((inputPerSlot ? rows * slots : rows) * inputs, seed: 8);
        var products = _backend.Allocate<float>(rows * slots * outputs);
        _backend.MatMulExperts(views, x.On(_backend), inputPerSlot, ids.On(_backend), rows, slots, products);
        var y = _backend.ToArray(products);

        for (int pair = 0; pair < rows * slots; pair++)
        {
            int source = inputPerSlot ? pair : pair / slots;
            var expected = _backend.MatMul([views[ids[pair]]], x.AsSpan(source * inputs, inputs).ToArray(), 1);
            for (int o = 0; o < outputs; o++)
                Assert.True(Math.Abs(expected[o] - y[pair * outputs + o]) <= 1e-4f * (1 + Math.Abs(expected[o])),
                    $"{type} pair {pair} output {o}: {y[pair * outputs + o]} vs {expected[o]}");
        }
    }

    [Theory]
    [InlineData(GgmlType.F32)]
    [InlineData(GgmlType.Q8_0)]
    [InlineData(GgmlType.Q4_K)]
    [InlineData(GgmlType.Q5_K)]
    public unsafe void Gate_And_Up_In_One_Operation_Equal_Each_Alone(GgmlType type)
    {
        const int experts = 5, width = 24, inputs = 256, rows = 7, slots = 2;
        using var gateStack = new TestMatrix(type, experts * width, inputs, seed: 1);
        using var upStack = new TestMatrix(type, experts * width, inputs, seed: 2);
        TensorView[] Views(TestMatrix m) => [.. Enumerable.Range(0, experts).Select(e =>
            new TensorView("stack", type, [experts, width, inputs], m.View.Data, m.View.ByteLength, "test").Slice(e))];
        var gate = Views(gateStack);
        var up = Views(upStack);
        int[] ids = [0, 4, 2, 4, 1, 0, 3, 3, 2, 1, 0, 4, 1, 2];
        var x = TestMatrix.RandomActivations(rows * inputs, seed: 5).On(_backend);
        var device = ids.On(_backend);
        float[] Alone(TensorView[] matrices)
        {
            var y = _backend.Allocate<float>(rows * slots * width);
            _backend.MatMulExperts(matrices, x, inputPerSlot: false, device, rows, slots, y);
            return _backend.ToArray(y);
        }
        var gateOut = _backend.Allocate<float>(rows * slots * width);
        var upOut = _backend.Allocate<float>(rows * slots * width);
        _backend.MatMulExperts(gate, up, x, device, rows, slots, gateOut, upOut);
        Assert.Equal(Alone(gate), _backend.ToArray(gateOut));
        Assert.Equal(Alone(up), _backend.ToArray(upOut));
    }

    [Fact]
    public unsafe void A_Slice_Of_A_Stack_Is_The_Matrix_Stored_At_Its_Place()
    {
        using var stack = new TestMatrix(GgmlType.F32, 3 * 4, 8, seed: 1);
        var merged = new TensorView("stack", GgmlType.F32, [3, 4, 8], stack.View.Data, stack.View.ByteLength, "test");
        var second = merged.Slice(1);
        Assert.Equal([4L, 8], second.Shape);
        var row = new float[8];
        TensorRows.Decode(second, 2, row);
        Assert.Equal(stack.Decoded.AsSpan((4 + 2) * 8, 8).ToArray(), row);
        Assert.Throws<ArgumentOutOfRangeException>(() => merged.Slice(3));
    }

    [Fact]
    public void Weighted_Slots_Add_Into_The_Output()
    {
        var output = new float[] { 1, 1, 2, 2 }.On(_backend);
        float[] y = [10, 20, 30, 40, 1, 2, 3, 4];
        _backend.AddWeightedSlots(output, y.On(_backend), new[] { 0.5f, 0.25f, 2f, 1f }.On(_backend), rows: 2, slots: 2);
        Assert.Equal([1 + 5 + 7.5f, 1 + 10 + 10, 2 + 2 + 3, 2 + 4 + 4], _backend.ToArray(output));
    }
}
