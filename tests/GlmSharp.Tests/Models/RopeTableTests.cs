using GlmSharp.Kernels;

namespace GlmSharp.Tests.Models;

/// <summary>Closed-form checks of the two RoPE pairings and of partial rotation.</summary>
public sealed class RopeTableTests
{
    [Fact]
    public void Adjacent_Pairs_Rotate_Each_Even_Odd_Pair_By_Position_Times_Its_Frequency()
    {
        // R = 4, theta = 100: inv_freq = [1, 100^(-1/2) = 0.1].
        var rope = new RopeTable(RopeLayout.AdjacentPairs, 4, 100);
        float[] x = [1, 0, 0, 1, 7, 9];
        rope.Apply(x, position: 2);
        // pair (x0, x1) = (1, 0) turns by 2 rad; pair (x2, x3) = (0, 1) turns by 0.2 rad; dims 4, 5 untouched.
        Assert.Equal(MathF.Cos(2), x[0], 6);
        Assert.Equal(MathF.Sin(2), x[1], 6);
        Assert.Equal(-MathF.Sin(0.2f), x[2], 6);
        Assert.Equal(MathF.Cos(0.2f), x[3], 6);
        Assert.Equal([7f, 9f], x[4..]);
    }

    [Fact]
    public void Split_Halves_Pair_Dimension_I_With_I_Plus_Half_The_Rotated_Width()
    {
        var rope = new RopeTable(RopeLayout.SplitHalves, 4, 100);
        float[] x = [1, 0, 0, 1, 7, 9];
        rope.Apply(x, position: 2);
        // pairs are (x0, x2) = (1, 0) at 2 rad and (x1, x3) = (0, 1) at 0.2 rad.
        Assert.Equal(MathF.Cos(2), x[0], 6);
        Assert.Equal(MathF.Sin(2), x[2], 6);
        Assert.Equal(-MathF.Sin(0.2f), x[1], 6);
        Assert.Equal(MathF.Cos(0.2f), x[3], 6);
        Assert.Equal([7f, 9f], x[4..]);
    }

    [Fact]
    public void Partial_Rotary_Frequencies_Use_The_Rotated_Width_Not_The_Head_Width()
    {
        // GLM: head_dim 128, R = 64 → inv_freq[i] = 10000^(-2i/64), so the last one is 10000^(-62/64).
        var rope = new RopeTable(RopeLayout.AdjacentPairs, 64, 10000);
        Assert.Equal(32, rope.InverseFrequencies.Length);
        Assert.Equal(Math.Pow(10000, -62.0 / 64), rope.InverseFrequencies[31], 9);
    }

    [Fact]
    public void Position_Zero_Is_The_Identity()
    {
        var rope = new RopeTable(RopeLayout.AdjacentPairs, 8, 10000);
        float[] x = [1, 2, 3, 4, 5, 6, 7, 8];
        rope.Apply(x, 0);
        Assert.Equal([1f, 2, 3, 4, 5, 6, 7, 8], x);
    }

    [Fact]
    public void Rotation_Preserves_The_Norm_Of_Every_Pair()
    {
        var rope = new RopeTable(RopeLayout.SplitHalves, 8, 10000);
        float[] x = [3, 1, 2, 5, 4, 6, 1, 2];
        float[] before = [.. x];
        rope.Apply(x, 1234);
        for (int i = 0; i < 4; i++)
            Assert.Equal(before[i] * before[i] + before[i + 4] * before[i + 4], x[i] * x[i] + x[i + 4] * x[i + 4], 3);
    }
}
