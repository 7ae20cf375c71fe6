using GlmSharp.Configs;
using GlmSharp.Kernels;
using GlmSharp.Kernels.Cpu;
using Xunit.Abstractions;
using GlmSharp.Tests.Support;

namespace GlmSharp.Tests.Oracle;

/// <summary>
/// Every RoPE variant through the engine's backend op against ggml's own RoPE operator on the same inputs: pairings,
/// partial rotary, long positions, M-RoPE sections with distinct components, and YaRN.
/// </summary>
[Trait("Oracle", "llama.cpp")]
public sealed class RopeOracleTests(ITestOutputHelper output)
{
    private const int Tokens = 9, Heads = 3;

    // Short and long positions: the running float product of the angles drifts most at large positions.
    private static readonly int[] TextPositions = [0, 1, 2, 17, 1000, 32767, 131071, 1_000_003, 5];

    public static TheoryData<RopeLayout, int, int, double> TextShapes() => new()
    {
        { RopeLayout.AdjacentPairs, 128, 64, 10000 },   // glm / glm4: partial rotary over half the head
        { RopeLayout.AdjacentPairs, 64, 64, 10000 },    // GLM-Edge: full rotary
        { RopeLayout.SplitHalves, 128, 64, 1e6 },       // glm4_moe (GLM-4.5 and later)
        { RopeLayout.SplitHalves, 24, 8, 500000 },      // partial rotary far below the head width
    };

    [Theory]
    [MemberData(nameof(TextShapes))]
    public void Text_Rope_Matches_Ggml(RopeLayout layout, int headDim, int rotaryDims, double theta)
    {
        var rope = new RopeTable(layout, rotaryDims, theta);
        AssertMatchesGgml(rope, headDim, TextPositions,
            x => GgmlRope.Rotate(x, Tokens, Heads, headDim, TextPositions, rotaryDims, GgmlMode(layout), (float)theta));
    }

    public static TheoryData<int, int, int[]> SectionShapes() => new()
    {
        { 128, 64, [8, 12, 12, 0] },   // GLM-4.1V: 32 pairs as t 8, h 12, w 12
        { 40, 16, [2, 3, 3, 0] },
        { 40, 16, [2, 1, 1, 0] },      // sections cover 4 of 8 pairs: ggml wraps pair i to i mod 4
        { 40, 16, [2, 2, 2, 2] },      // a fourth section reads the fourth component
    };

    [Theory]
    [MemberData(nameof(SectionShapes))]
    public void Multi_Section_Rope_With_Distinct_Components_Matches_Ggml(int headDim, int rotaryDims, int[] sections)
    {
        var rope = new RopeTable(RopeLayout.SplitHalves, rotaryDims, 10000, sections);
        var random = new Random(headDim + rotaryDims);
        var rowMajor = new int[Tokens * RopeTable.MultiSectionComponents];
        for (int i = 0; i < rowMajor.Length; i++) rowMajor[i] = random.Next(0, 5000);
        AssertMatchesGgml(rope, headDim, rowMajor,
            x => GgmlRope.Rotate(x, Tokens, Heads, headDim, ComponentMajor(rowMajor), rotaryDims, GgmlRope.MultiSection, 10000, sections));
    }

    [Fact]
    public void Text_Tokens_Under_Multi_Section_Rope_Rotate_As_Split_Half_Rope_In_Ggml_And_Here()
    {
        const int headDim = 128, rotaryDims = 64;
        int[] sections = [8, 12, 12, 0];
        var mrope = new RopeTable(RopeLayout.SplitHalves, rotaryDims, 10000, sections);
        var rowMajor = new int[Tokens * RopeTable.MultiSectionComponents];
        for (int t = 0; t < Tokens; t++) mrope.TextPosition(TextPositions[t], rowMajor.AsSpan(t * 4, 4));
        var x = RandomHeads(headDim);
        var ggmlMrope = GgmlRope.Rotate(x, Tokens, Heads, headDim, ComponentMajor(rowMajor), rotaryDims, GgmlRope.MultiSection, 10000, sections);
        var ggmlNeox = GgmlRope.Rotate(x, Tokens, Heads, headDim, TextPositions, rotaryDims, GgmlRope.Neox, 10000);
        Assert.Equal(ggmlNeox, ggmlMrope);
        var text = new RopeTable(RopeLayout.SplitHalves, rotaryDims, 10000);
        Assert.Equal(Rotate(text, x, headDim, TextPositions), Rotate(mrope, x, headDim, rowMajor));
        AssertMatchesGgml(mrope, headDim, rowMajor,
            y => GgmlRope.Rotate(y, Tokens, Heads, headDim, ComponentMajor(rowMajor), rotaryDims, GgmlRope.MultiSection, 10000, sections));
    }

    public static TheoryData<RopeLayout, double, int> YarnShapes() => new()
    {
        { RopeLayout.AdjacentPairs, 10000, 32768 },   // GLM-4-0414's recommended factor 4 over 32K
        { RopeLayout.SplitHalves, 1e6, 32768 },
        { RopeLayout.AdjacentPairs, 10000, 200 },     // a short original context moves the ramp into the middle pairs
    };

    [Theory]
    [MemberData(nameof(YarnShapes))]
    public void Yarn_Matches_Ggml(RopeLayout layout, double theta, int originalContext)
    {
        const int headDim = 128, rotaryDims = 64;
        const float factor = 4;
        var rope = new RopeTable(layout, rotaryDims, theta, scaling: new YarnScaling(factor, originalContext));
        AssertMatchesGgml(rope, headDim, TextPositions,
            x => GgmlRope.Rotate(x, Tokens, Heads, headDim, TextPositions, rotaryDims, GgmlMode(layout), (float)theta,
                freqScale: 1 / factor, extFactor: 1, originalContext: originalContext));
    }

    /// <summary>
    /// Two checks against ggml: a head whose every pair is (1, 0) comes out as exactly (cos, sin) of that pair's angle
    /// (no rounding in the rotation), so the angles must be bit-identical; random heads must agree within the rounding
    /// of the rotation itself (ggml's x86 builds fuse its multiply-adds, ours do not): two float ulps of values below 2.
    /// </summary>
    private void AssertMatchesGgml(RopeTable rope, int headDim, int[] rowMajor, Func<float[], float[]> ggml)
    {
        int half = rope.RotaryDims / 2, partner = rope.Layout == RopeLayout.AdjacentPairs ? 1 : half;
        int Index(int pair) => rope.Layout == RopeLayout.AdjacentPairs ? 2 * pair : pair;
        var probe = new float[Tokens * Heads * headDim];
        for (int head = 0; head < Tokens * Heads; head++)
            for (int i = 0; i < half; i++) probe[head * headDim + Index(i)] = 1;
        var angles = ggml(probe);
        var cos = new float[half];
        var sin = new float[half];
        for (int t = 0; t < Tokens; t++)
        {
            rope.Angles(rowMajor.AsSpan(t * rope.PositionComponents, rope.PositionComponents), cos, sin);
            for (int i = 0; i < half; i++)
            {
                int at = t * Heads * headDim + Index(i);
                Assert.True(cos[i] == angles[at] && sin[i] == angles[at + partner],
                    $"token {t} pair {i}: cos/sin ({cos[i]:R}, {sin[i]:R}), ggml ({angles[at]:R}, {angles[at + partner]:R})");
            }
        }

        var x = RandomHeads(headDim);
        var expected = ggml(x);
        var actual = Rotate(rope, x, headDim, rowMajor);
        float worst = 0;
        for (int i = 0; i < expected.Length; i++) worst = MathF.Max(worst, MathF.Abs(expected[i] - actual[i]));
        output.WriteLine($"largest difference from ggml on random heads {worst:E2}");
        Assert.True(worst <= 2.5e-7f, $"largest difference from ggml {worst:E2} > 2.5e-7");
    }

    private static float[] Rotate(RopeTable rope, float[] x, int headDim, int[] positions)
    {
        var y = x.On(CpuBackend.Instance);
        CpuBackend.Instance.Rope(y, Tokens, Heads, headDim, positions, rope);
        return CpuBackend.Instance.ToArray(y);
    }

    private static int GgmlMode(RopeLayout layout) => layout == RopeLayout.AdjacentPairs ? GgmlRope.Normal : GgmlRope.Neox;

    /// <summary>llama.cpp's graph takes M-RoPE positions as [component, token]; the backend takes [token, component].</summary>
    private static int[] ComponentMajor(int[] rowMajor)
    {
        var result = new int[rowMajor.Length];
        for (int t = 0; t < Tokens; t++)
            for (int c = 0; c < RopeTable.MultiSectionComponents; c++)
                result[c * Tokens + t] = rowMajor[t * RopeTable.MultiSectionComponents + c];
        return result;
    }

    private static float[] RandomHeads(int headDim)
    {
        var random = new Random(headDim);
        var x = new float[Tokens * Heads * headDim];
        for (int i = 0; i < x.Length; i++) x[i] = (float)(random.NextDouble() * 2 - 1);
        return x;
    }
}
