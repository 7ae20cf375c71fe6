using GlmSharp.Training.Layers;

namespace GlmSharp.Tests.Training;

/// <summary>
/// The trainer's routed experts: the forward pass against a plain per-row evaluation of GLM-4.5's formula, the
/// backward pass against finite differences (with the choice of experts held, which has no gradient), and the
/// bias balancing step in closed form.
/// </summary>
public class RoutedExpertsTests
{
    private const int Hidden = 6, Inner = 3, Experts = 4, PerRow = 2, Rows = 5;
    private const float Scale = 1.8f;

    private static float[] R(int n, ulong seed, double std = 1.0, double mean = 0.0) => FiniteDifference.Random(n, seed, std, mean);

    private readonly float[] _x = R(Rows * Hidden, 21);
    private readonly float[] _router = R(Experts * Hidden, 31, 2.0);
    private readonly float[] _bias = [0.05f, -0.02f, 0.1f, 0f];
    private readonly float[] _gateUp = R(Experts * 2 * Inner * Hidden, 23, 0.5);
    private readonly float[] _down = R(Experts * Hidden * Inner, 24, 0.5);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Forward_Is_The_Weighted_Sum_Of_The_Chosen_Experts(bool normalize)
    {
        var layer = new RoutedExperts(Hidden, Inner, Experts, PerRow, normalize, Scale, Rows);
        var y = new float[Rows * Hidden];
        layer.Forward(_x, _router, _bias, _gateUp, _down, y, Rows);

        for (int r = 0; r < Rows; r++)
        {
            var x = _x.AsSpan(r * Hidden, Hidden).ToArray();
            var scores = Enumerable.Range(0, Experts).Select(e => Sigmoid(Dot(x, _router.AsSpan(e * Hidden, Hidden).ToArray()))).ToArray();
            var chosen = Enumerable.Range(0, Experts).OrderByDescending(e => scores[e] + _bias[e]).ThenBy(e => e).Take(PerRow).ToArray();
            double sum = normalize ? chosen.Sum(e => scores[e]) : 1;
            Assert.Equal(chosen, layer.Chosen.Slice(r * PerRow, PerRow).ToArray());
            for (int i = 0; i < Hidden; i++)
            {
                double expected = chosen.Sum(e => Scale * scores[e] / sum * Expert(e, x)[i]);
                Assert.Equal(expected, y[r * Hidden + i], 4);
            }
        }
        Assert.Equal(Rows * PerRow, layer.Load.ToArray().Sum());
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Backward_Matches_Finite_Differences_For_Input_Router_And_Experts(bool normalize)
    {
        var layer = new RoutedExperts(Hidden, Inner, Experts, PerRow, normalize, Scale, Rows);
        var probe = R(Rows * Hidden, 25);
        var y = new float[Rows * Hidden];
        layer.Forward(_x, _router, _bias, _gateUp, _down, y, Rows);
        var choice = layer.Chosen.ToArray();
        Assert.True(choice.Distinct().Count() > 2, "the rows should not all pick the same experts");
        double Loss()
        {
            layer.Forward(_x, _router, _bias, _gateUp, _down, y, Rows);
            Assert.Equal(choice, layer.Chosen.ToArray());
            return FiniteDifference.Project(y, probe);
        }
        Loss();
        var dx = new float[Rows * Hidden];
        var dRouter = new float[_router.Length];
        var dGateUp = new float[_gateUp.Length];
        var dDown = new float[_down.Length];
        layer.Backward(_x, _router, _gateUp, _down, probe, dx, dRouter, dGateUp, dDown);
        FiniteDifference.AssertClose(_x, dx, Loss, "dx");
        FiniteDifference.AssertClose(_router, dRouter, Loss, "drouter");
        FiniteDifference.AssertClose(_gateUp, dGateUp, Loss, "dgate_up");
        FiniteDifference.AssertClose(_down, dDown, Loss, "ddown");
    }

    [Fact]
    public void Balancing_Raises_The_Bias_Of_Underused_Experts_And_Lowers_The_Busy_Ones()
    {
        var layer = new RoutedExperts(Hidden, Inner, Experts, PerRow, true, Scale, Rows);
        var favour = new float[] { 5, 5, 0, 0 };
        layer.Forward(_x, _router, favour, _gateUp, _down, new float[Rows * Hidden], Rows);
        Assert.Equal([Rows, Rows, 0, 0], layer.Load.ToArray());

        var bias = new float[] { 0.5f, 0f, -0.25f, 0f };
        layer.BalanceBias(bias, 0.01f);
        float[] expected = [0.49f, -0.01f, -0.24f, 0.01f];
        for (int e = 0; e < Experts; e++) Assert.Equal(expected[e], bias[e], 6);
    }

    private double[] Expert(int e, float[] x)
    {
        var gu = _gateUp.AsSpan(e * 2 * Inner * Hidden, 2 * Inner * Hidden).ToArray();
        var down = _down.AsSpan(e * Hidden * Inner, Hidden * Inner).ToArray();
        var act = new double[Inner];
        for (int j = 0; j < Inner; j++)
        {
            double gate = Dot(x, gu[(j * Hidden)..((j + 1) * Hidden)]), up = Dot(x, gu[((Inner + j) * Hidden)..((Inner + j + 1) * Hidden)]);
            act[j] = gate * Sigmoid(gate) * up;
        }
        return Enumerable.Range(0, Hidden).Select(i => Enumerable.Range(0, Inner).Sum(j => down[i * Inner + j] * act[j])).ToArray();
    }

    private static double Dot(float[] a, float[] b) => a.Zip(b, (p, q) => (double)p * q).Sum();

    private static double Sigmoid(double v) => 1 / (1 + Math.Exp(-v));
}
