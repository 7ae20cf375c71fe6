using GlmSharp.Vision;
using GlmSharp.Vision.Blocks;

namespace GlmSharp.Tests.Vision;

/// <summary>Closed-form checks of the vision tower's building blocks.</summary>
public sealed class VisionBlockTests
{
    [Fact]
    public void Patch_Positions_Follow_Merge_Blocks()
    {
        // A 4 × 4 grid: block (0,0) holds (0,0) (0,1) (1,0) (1,1), then block (0,1) holds (0,2) (0,3) (1,2) (1,3), ...
        var positions = VisionPatchPositions.InMergeOrder(4, 4, 2);
        Assert.Equal([(0, 0), (0, 1), (1, 0), (1, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 0), (2, 1), (3, 0), (3, 1)], positions[..12]);
    }

    [Fact]
    public void Patch_Embedding_Of_A_Still_Image_Sums_The_Two_Temporal_Kernels()
    {
        // Patch 2, 3 channels, 2 outputs. Temporal kernel 0 is (o + 1) everywhere and kernel 1 is 10 (o + 1): on a patch
        // whose channel c is the constant v_c in both frames, output o = b_o + 4 · 11 (o + 1) · Σ v_c.
        const int patch = 2, channels = 3, hidden = 2;
        int plane = patch * patch;
        var slice0 = new float[hidden * channels * plane];
        var slice1 = new float[hidden * channels * plane];
        for (int o = 0; o < hidden; o++)
            for (int k = 0; k < channels * plane; k++) (slice0[o * channels * plane + k], slice1[o * channels * plane + k]) = (o + 1, 10 * (o + 1));
        float[] bias = [0.5f, -1f];
        var embedding = VisionPatchEmbedding.FromTemporalSlices(slice0, slice1, bias, channels);

        float[] v = [0.25f, -0.5f, 2f];
        var row = new float[channels * 2 * plane];
        for (int c = 0; c < channels; c++) row.AsSpan(c * 2 * plane, 2 * plane).Fill(v[c]);
        var output = embedding.Apply(new VisionInput(row, row.Length, 1, 1, 1, 1));

        float sum = v.Sum();
        Assert.Equal(0.5f + 4 * 11 * 1 * sum, output[0], 5);
        Assert.Equal(-1f + 4 * 11 * 2 * sum, output[1], 5);
    }

    [Fact]
    public void Patch_Embedding_Takes_Conv3d_Weights_In_The_Patch_Row_Order()
    {
        // One output whose kernel picks channel 1, temporal 1, pixel (1, 0) of a 2 × 2 patch: the row's element
        // ((1 · 2 + 1) · 2 + 1) · 2 + 0 = 14.
        var weight = new float[3 * 2 * 2 * 2];
        weight[14] = 1;
        var row = Enumerable.Range(0, 24).Select(i => (float)i * 3).ToArray();
        var output = new VisionPatchEmbedding(weight, [0f]).Apply(new VisionInput(row, 24, 1, 1, 1, 1));
        Assert.Equal(42f, output[0]);
    }

    [Fact]
    public void Position_Table_Read_At_Its_Own_Size_Is_Unchanged()
    {
        // Same grid as the table: every source coordinate lands on a sample (t = 0, weights 0, 1, 0, 0), up to the
        // float32 rounding of the normalised coordinate that torch shares.
        const int side = 3, hidden = 2;
        var table = Enumerable.Range(0, side * side * hidden).Select(i => (float)i).ToArray();
        var embedding = new VisionPositionEmbedding(table, side);
        var positions = Enumerable.Range(0, side * side).Select(i => (i / side, i % side)).ToArray();
        var output = embedding.ForPatches(positions, side, side);
        for (int i = 0; i < table.Length; i++) Assert.Equal(table[i], output[i], 5);
    }

    [Theory]
    // A 4 × 4 table whose rows are all v, read on a 2 × 2 grid: columns sample x = (c + 0.5)·2 − 0.5 = 0.5 and 2.5, so
    // t = 0.5 and A = −0.75 gives weights (−0.09375, 0.59375, 0.59375, −0.09375) over columns x−1 … x+2, clamped
    // to the border. v = (0, 0, 0, 8): column 0 → 0, column 1 → (0.59375 − 0.09375)·8 = 4.
    // v = (0, 0, 8, 0): column 0 → −0.09375·8 = −0.75, column 1 → 0.59375·8 = 4.75.
    [InlineData(3, 0f, 4f)]
    [InlineData(2, -0.75f, 4.75f)]
    public void Position_Table_Bicubic_Downsampling_Matches_The_Cubic_Convolution_By_Hand(int hotColumn, float left, float right)
    {
        const int side = 4;
        var table = new float[side * side];
        for (int r = 0; r < side; r++) table[r * side + hotColumn] = 8;
        var output = new VisionPositionEmbedding(table, side).ForPatches([(0, 0), (0, 1), (1, 0), (1, 1)], 2, 2);
        Assert.Equal(left, output[0], 6);
        Assert.Equal(right, output[1], 6);
        Assert.Equal(left, output[2], 6);
        Assert.Equal(right, output[3], 6);
    }

    [Fact]
    public void Vision_Rope_Rotates_Row_Frequencies_Then_Column_Frequencies_Over_Split_Halves()
    {
        // Head 8: angles (row·1, row·0.01, col·1, col·0.01) with inv_freq = 10000^(−2k/4); dim j pairs with j + 4.
        var rope = new VisionRope2D(8);
        foreach (int j in new[] { 0, 1, 2, 3 })
        {
            var head = new float[8];
            head[j] = 1;
            rope.Apply(head, 3, 5);
            int position = j < 2 ? 3 : 5;
            float frequency = j % 2 == 0 ? 1f : 0.01f;
            Assert.Equal(MathF.Cos(position * frequency), head[j], 6);
            Assert.Equal(MathF.Sin(position * frequency), head[j + 4], 6);
            Assert.Equal(1f, head.Select(x => x * x).Sum(), 5);
        }
    }

    [Fact]
    public void Vision_Rope_Scores_Depend_Only_On_The_Offset_Between_Patches()
    {
        var rope = new VisionRope2D(16);
        var random = new Random(3);
        var q = Enumerable.Range(0, 16).Select(_ => (float)random.NextDouble() - 0.5f).ToArray();
        var k = Enumerable.Range(0, 16).Select(_ => (float)random.NextDouble() - 0.5f).ToArray();
        float Score(int qr, int qc, int kr, int kc)
        {
            var a = (float[])q.Clone();
            var b = (float[])k.Clone();
            rope.Apply(a, qr, qc);
            rope.Apply(b, kr, kc);
            return a.Zip(b, (x, y) => x * y).Sum();
        }
        Assert.Equal(Score(2, 7, 1, 3), Score(5, 9, 4, 5), 4);
        Assert.NotEqual(Score(2, 7, 1, 3), Score(2, 7, 3, 1), 2);
    }
}
