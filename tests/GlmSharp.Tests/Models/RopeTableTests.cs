using GlmSharp.Configs;
using GlmSharp.Kernels;
using GlmSharp.Kernels.Cpu;
using GlmSharp.Tests.Support;

namespace GlmSharp.Tests.Models;

/// <summary>Closed-form checks of each RoPE variant: the two pairings, partial rotary, M-RoPE sections and YaRN.</summary>
public sealed class RopeTableTests
{
    [Fact]
    public void Adjacent_Pairs_Rotate_Each_Even_Odd_Pair_By_Position_Times_Its_Frequency()
    {
        // R = 4, theta = 100: frequencies [1, 100^(-1/2) = 0.1].
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
        // GLM: head_dim 128, R = 64 → the last pair turns by p·10000^(-62/64) (with the head width it would be p·10000^(-62/128)).
        var rope = new RopeTable(RopeLayout.AdjacentPairs, 64, 10000);
        var cos = new float[32];
        var sin = new float[32];
        rope.Angles(1000, cos, sin);
        double angle = 1000 * Math.Pow(10000, -62.0 / 64);
        Assert.Equal(Math.Cos(angle), cos[31], 5);
        Assert.Equal(Math.Sin(angle), sin[31], 5);
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

    [Theory]
    [InlineData(RopeLayout.AdjacentPairs)]
    [InlineData(RopeLayout.SplitHalves)]
    public void The_Inverse_Rotation_Undoes_The_Rotation(RopeLayout layout)
    {
        var rope = new RopeTable(layout, 8, 10000);
        float[] x = [3, 1, 2, 5, 4, 6, 1, 2, 9];
        float[] before = [.. x];
        var cos = new float[4];
        var sin = new float[4];
        rope.Angles(77, cos, sin);
        rope.Apply(x, cos, sin);
        Assert.NotEqual(before, x);
        rope.ApplyInverse(x, cos, sin);
        for (int i = 0; i < x.Length; i++) Assert.Equal(before[i], x[i], 5);
    }

    [Fact]
    public void Text_Rope_Takes_One_Position_Component_And_Multi_Section_Rope_Four()
    {
        Assert.Equal(1, new RopeTable(RopeLayout.AdjacentPairs, 64, 10000).PositionComponents);
        var mrope = new RopeTable(RopeLayout.SplitHalves, 64, 10000, [8, 12, 12]);
        Assert.Equal(4, mrope.PositionComponents);
        Assert.Equal([8, 12, 12, 0], mrope.Sections);
        var components = new int[4];
        mrope.TextPosition(41, components);
        Assert.Equal([41, 41, 41, 0], components);
    }

    [Fact]
    public void Sections_Route_Each_Pair_To_Its_Position_Component()
    {
        // R = 12: six pairs with frequencies s^i, s = 64^(-2/12) = 1/2. Sections [1, 2, 3]: pair 0 reads t,
        // pairs 1-2 read h, pairs 3-5 read w. Each component alone turns only its own pairs.
        var rope = new RopeTable(RopeLayout.AdjacentPairs, 12, 64, [1, 2, 3]);
        AssertAngles(rope, [3, 0, 0, 0], [3, 0, 0, 0, 0, 0]);
        AssertAngles(rope, [0, 8, 0, 0], [0, 4, 2, 0, 0, 0]);
        AssertAngles(rope, [0, 0, 16, 0], [0, 0, 0, 2, 1, 0.5]);
        AssertAngles(rope, [3, 8, 16, 99], [3, 4, 2, 2, 1, 0.5]);
    }

    [Fact]
    public void Sections_Shorter_Than_The_Pairs_Repeat_And_A_Fourth_Section_Reads_The_Fourth_Component()
    {
        // Six pairs, sections [1, 1] cover two: as in ggml, pair i takes the section of i mod 2 (t, h, t, h, t, h).
        var wrapped = new RopeTable(RopeLayout.SplitHalves, 12, 64, [1, 1]);
        AssertAngles(wrapped, [32, 64, 0, 0], [32, 32, 8, 8, 2, 2]);
        // Sections [1, 1, 1, 1] over four pairs (s = 16^(-2/8) = 1/2): pair 3 reads the fourth component.
        var four = new RopeTable(RopeLayout.SplitHalves, 8, 16, [1, 1, 1, 1]);
        AssertAngles(four, [0, 0, 0, 64], [0, 0, 0, 8]);
    }

    [Theory]
    [InlineData(RopeLayout.AdjacentPairs)]
    [InlineData(RopeLayout.SplitHalves)]
    public void Multi_Section_Rope_Of_A_Text_Position_Equals_One_Dimensional_Rope(RopeLayout layout)
    {
        const int heads = 2, headDim = 96, rows = 3;
        var text = new RopeTable(layout, 64, 10000);
        var mrope = new RopeTable(layout, 64, 10000, [8, 12, 12, 0]);
        int[] positions = [0, 513, 70000];
        var components = new int[rows * 4];
        for (int r = 0; r < rows; r++) mrope.TextPosition(positions[r], components.AsSpan(r * 4, 4));
        var random = new Random(1);
        var x = Enumerable.Range(0, rows * heads * headDim).Select(_ => (float)random.NextDouble()).ToArray();
        var backend = CpuBackend.Instance;
        var rotatedText = x.On(backend);
        var rotatedSections = x.On(backend);
        backend.Rope(rotatedText, rows, heads, headDim, positions, text);
        backend.Rope(rotatedSections, rows, heads, headDim, components, mrope);
        Assert.Equal(backend.ToArray(rotatedText), backend.ToArray(rotatedSections));
    }

    [Fact]
    public void Yarn_Blends_Extrapolated_And_Interpolated_Frequencies_And_Scales_The_Magnitude()
    {
        // R = 8, theta 10^4: frequencies s^i with s = 0.1. Original context 64, factor 4, betas 32 / 1:
        // correction dims 8·ln(64/(2π·β))/(2·ln 10^4) → floor(−0.50) = −1 → 0 and ceil(1.008) = 2, so the ramp
        // keeps 1, 1/2, 0, 0 of each pair's extrapolated (unscaled) frequency and takes the rest divided by 4:
        // at p = 10 the angles are 10, 10·0.1·(1/2 + 1/8) = 0.625, 10·0.01/4 = 0.025, 10·0.001/4 = 0.0025.
        // cos and sin grow by 1 + 0.1·ln 4.
        var rope = new RopeTable(RopeLayout.AdjacentPairs, 8, 10000, scaling: new YarnScaling(4, 64));
        var cos = new float[4];
        var sin = new float[4];
        rope.Angles(10, cos, sin);
        double magnitude = 1 + 0.1 * Math.Log(4);
        double[] angles = [10, 0.625, 0.025, 0.0025];
        for (int i = 0; i < 4; i++)
        {
            Assert.Equal(magnitude * Math.Cos(angles[i]), cos[i], 5);
            Assert.Equal(magnitude * Math.Sin(angles[i]), sin[i], 5);
        }
    }

    [Fact]
    public void Yarn_With_Factor_One_Is_Plain_Rope()
    {
        var plain = new RopeTable(RopeLayout.AdjacentPairs, 16, 10000);
        var yarn = new RopeTable(RopeLayout.AdjacentPairs, 16, 10000, scaling: new YarnScaling(1, 4096));
        float[] a = [.. Enumerable.Range(1, 16).Select(i => (float)i)];
        float[] b = [.. a];
        plain.Apply(a, 300);
        yarn.Apply(b, 300);
        Assert.Equal(a, b);
    }

    [Fact]
    public void Bad_Rope_Parameters_Are_Refused_With_The_Limit()
    {
        Assert.Contains("even", Assert.Throws<ArgumentOutOfRangeException>(() => new RopeTable(RopeLayout.AdjacentPairs, 7, 10000)).Message);
        Assert.Contains("theta", Assert.Throws<ArgumentOutOfRangeException>(() => new RopeTable(RopeLayout.AdjacentPairs, 8, 1)).Message);
        Assert.Contains("negative", Assert.Throws<ArgumentOutOfRangeException>(() => new RopeTable(RopeLayout.SplitHalves, 8, 100, [2, -1, 1])).Message);
        Assert.Contains("[1, 4]", Assert.Throws<ArgumentOutOfRangeException>(() => new RopeTable(RopeLayout.SplitHalves, 8, 100, [2, 2, 1])).Message);
        Assert.Contains("[1, 4]", Assert.Throws<ArgumentOutOfRangeException>(() => new RopeTable(RopeLayout.SplitHalves, 8, 100, [0, 0, 0])).Message);
        Assert.Contains("at most 4", Assert.Throws<ArgumentOutOfRangeException>(() => new RopeTable(RopeLayout.SplitHalves, 16, 100, [1, 1, 1, 1, 1])).Message);
        Assert.Contains("factor 0.5", Assert.Throws<ArgumentException>(() => new YarnScaling(0.5, 4096)).Message);
        Assert.Contains("original context 0", Assert.Throws<ArgumentException>(() => new YarnScaling(4, 0)).Message);
    }

    [Fact]
    public void A_Row_Position_With_The_Wrong_Number_Of_Components_Is_Refused()
    {
        var mrope = new RopeTable(RopeLayout.SplitHalves, 8, 100, [1, 1, 2]);
        var cos = new float[4];
        var sin = new float[4];
        Assert.Contains("takes 4", Assert.Throws<ArgumentException>(() => mrope.Angles(5, cos, sin)).Message);
        var x = new float[2 * 8];
        Assert.Contains("8 positions (4 per row)",
            Assert.Throws<ArgumentException>(() => CpuBackend.Instance.Rope(x.On(CpuBackend.Instance), 2, 1, 8, [1, 2], mrope)).Message);
    }

    /// <summary>Checks cos/sin of every pair against the expected angles at one row's position components.</summary>
    private static void AssertAngles(RopeTable rope, int[] position, double[] angles)
    {
        var cos = new float[angles.Length];
        var sin = new float[angles.Length];
        rope.Angles(position, cos, sin);
        for (int i = 0; i < angles.Length; i++)
        {
            Assert.Equal(Math.Cos(angles[i]), cos[i], 6);
            Assert.Equal(Math.Sin(angles[i]), sin[i], 6);
        }
    }
}
