using GlmSharp.Training;

namespace GlmSharp.Tests.Training;

public class OptimizerTests
{
    [Fact]
    public void AdamW_Two_Steps_Match_Hand_Computed_Values_With_Decay_Only_On_Matrices()
    {
        // lr 0.1, λ 0.1, β (0.9, 0.95); gradients 0.5 then −0.25 on a value of 1.
        // Step 1: m̂ = 0.5, v̂ = 0.25 → update 0.1; decay 1 → 0.99. Matrix 0.89, norm weight 0.9.
        // Step 2: m = 0.02, v = 0.015, m̂ = 0.02/0.19, v̂ = 0.015/0.0975 → update 0.0268369;
        //         matrix 0.89·0.99 − 0.0268369 = 0.8542631, norm weight 0.9 − 0.0268369 = 0.8731631.
        var parameters = new TrainingParameters([("w", [1, 1]), ("norm.weight", [1])]);
        parameters.Values.AsSpan().Fill(1f);
        var adam = new AdamW(parameters, new AdamWOptions { Beta1 = 0.9f, Beta2 = 0.95f, Epsilon = 1e-8f, WeightDecay = 0.1f });
        parameters.Gradients.AsSpan().Fill(0.5f);
        adam.Step(0.1f);
        Assert.Equal(0.89f, parameters.Values[0], 6);
        Assert.Equal(0.9f, parameters.Values[1], 6);
        parameters.Gradients.AsSpan().Fill(-0.25f);
        adam.Step(0.1f);
        Assert.Equal(0.8542631f, parameters.Values[0], 6);
        Assert.Equal(0.8731631f, parameters.Values[1], 6);
        Assert.Equal(2, adam.StepCount);
    }

    [Theory]
    [InlineData(0, 1e-4)]      // warm-up: peak·1/10
    [InlineData(4, 5e-4)]      // peak·5/10
    [InlineData(9, 1e-3)]      // warm-up ends at the peak
    [InlineData(10, 1e-3)]     // cosine starts at the peak
    [InlineData(60, 5.5e-4)]   // half-way through 100 decay steps: (peak + minimum)/2
    [InlineData(110, 1e-4)]    // last step: minimum
    [InlineData(500, 1e-4)]    // beyond the end it stays at the minimum
    public void Schedule_Warms_Up_Linearly_Then_Follows_A_Half_Cosine(long step, double expected)
    {
        var schedule = new LearningRateSchedule(Peak: 1e-3f, Minimum: 1e-4f, WarmupSteps: 10, TotalSteps: 111);
        Assert.Equal(expected, schedule.At(step), 7);
    }

    [Fact]
    public void Schedule_Rejects_A_Minimum_Above_The_Peak()
    {
        var schedule = new LearningRateSchedule(Peak: 1e-4f, Minimum: 1e-3f, WarmupSteps: 1, TotalSteps: 10);
        var e = Assert.Throws<GlmSharp.Errors.GlmException>(() => schedule.At(0));
        Assert.Contains("minimum", e.Message);
    }

    [Fact]
    public void Clipping_Scales_A_Gradient_Above_The_Limit_To_The_Limit_And_Leaves_Smaller_Ones()
    {
        float[] large = [3, 4];
        Assert.Equal(5f, GradientClipping.ClipByGlobalNorm(large, 1f));
        Assert.Equal(0.6f, large[0], 5);
        Assert.Equal(0.8f, large[1], 5);
        float[] small = [3, 4];
        Assert.Equal(5f, GradientClipping.ClipByGlobalNorm(small, 10f));
        Assert.Equal([3f, 4f], small);
    }
}
