using GlmSharp.Vision;

namespace GlmSharp.Tests.Vision;

/// <summary>3-D positions written out by hand from get_rope_index and from llama.cpp mtmd's image layout.</summary>
public sealed class MropePositionTests
{
    private const int Img = 151343, Boi = 151339, Eoi = 151340, Bov = 151341, Eov = 151342, Txt = 100;

    private static MropePositionIds Rope(int[] tokens, GridThw[] images, GridThw[] videos) =>
        Glm4vRopeIndex.Compute(tokens, Img, Bov, Eov, images, videos, 2);

    private static void AssertPositions((int, int, int)[] expected, MropePositionIds actual)
    {
        Assert.Equal(expected.Length, actual.Count);
        for (int i = 0; i < expected.Length; i++) Assert.True(expected[i] == actual[i], $"token {i}: expected {expected[i]}, got {actual[i]}");
    }

    [Fact]
    public void Text_Only_Counts_Up_On_All_Three_Components()
    {
        var ids = Rope([Txt, Txt, Txt, Txt], [], []);
        AssertPositions([(0, 0, 0), (1, 1, 1), (2, 2, 2), (3, 3, 3)], ids);
        Assert.Equal(0, ids.RopeDelta);
    }

    [Fact]
    public void Image_Tokens_Take_Start_Plus_Row_And_Column_And_Advance_By_The_Longer_Side()
    {
        // Grid 1×4×6 merges to 2 rows × 3 columns = 6 tokens, starting at position 3; the text after resumes at 3 + max(2, 3) = 6.
        var ids = Rope([Txt, Txt, Boi, Img, Img, Img, Img, Img, Img, Eoi, Txt], [new GridThw(1, 4, 6)], []);
        AssertPositions([
            (0, 0, 0), (1, 1, 1), (2, 2, 2),
            (3, 3, 3), (3, 3, 4), (3, 3, 5),
            (3, 4, 3), (3, 4, 4), (3, 4, 5),
            (6, 6, 6), (7, 7, 7)], ids);
        // 11 tokens whose largest position is 7: decode continues at index n + (8 − 11).
        Assert.Equal(-3, ids.RopeDelta);
    }

    [Fact]
    public void Tall_Image_Advances_By_Its_Row_Count()
    {
        // Grid 1×6×2 → 3 rows × 1 column.
        var ids = Rope([Boi, Img, Img, Img, Eoi], [new GridThw(1, 6, 2)], []);
        AssertPositions([(0, 0, 0), (1, 1, 1), (1, 2, 1), (1, 3, 1), (4, 4, 4)], ids);
    }

    [Fact]
    public void Video_Frames_Are_Image_Runs_With_T_Zero_Separated_By_Their_Timestamps()
    {
        // One video of 2 temporal patches, each 4×4 patches → 2×2 merged tokens, laid out as processing_glm4v writes it:
        // <|begin_of_video|> (<|begin_of_image|> 4×<|image|> <|end_of_image|> timestamp)×2 <|end_of_video|>.
        const int ts0 = 15, ts2 = 17;
        var ids = Rope([Bov, Boi, Img, Img, Img, Img, Eoi, ts0, Boi, Img, Img, Img, Img, Eoi, ts2, Eov], [], [new GridThw(2, 4, 4)]);
        AssertPositions([
            (0, 0, 0), (1, 1, 1),
            (2, 2, 2), (2, 2, 3), (2, 3, 2), (2, 3, 3),
            (4, 4, 4), (5, 5, 5), (6, 6, 6),
            (7, 7, 7), (7, 7, 8), (7, 8, 7), (7, 8, 8),
            (9, 9, 9), (10, 10, 10), (11, 11, 11)], ids);
    }

    [Fact]
    public void Image_Tokens_Inside_A_Video_Use_The_Video_Grid_And_Outside_The_Image_Grid()
    {
        // Image 1×2×4 (1 row × 2 columns) then a one-frame video 1×4×2 (2 rows × 1 column).
        var ids = Rope([Img, Img, Bov, Img, Img, Eov], [new GridThw(1, 2, 4)], [new GridThw(1, 4, 2)]);
        AssertPositions([(0, 0, 0), (0, 0, 1), (2, 2, 2), (3, 3, 3), (3, 4, 3), (5, 5, 5)], ids);
    }

    [Fact]
    public void Placeholder_Count_That_Does_Not_Match_The_Grid_Is_Refused()
    {
        var e = Assert.Throws<ImageInputException>(() => Rope([Boi, Img, Img, Img, Img, Img, Eoi], [new GridThw(1, 4, 6)], []));
        Assert.Equal("prompt: image 1 at token 1 has 5 placeholder tokens, its merged grid 1×2×3 needs 6", e.Message);
    }

    [Fact]
    public void More_Image_Runs_Than_Grids_Is_Refused()
    {
        var e = Assert.Throws<ImageInputException>(() => Rope([Img, Txt, Img], [new GridThw(1, 2, 2)], []));
        Assert.Equal("prompt: image token run at 2 has no image grid (only 1 given)", e.Message);
    }

    [Theory]
    [InlineData(3, 2)]
    [InlineData(2, 3)]
    [InlineData(5, 1)]
    public void LlamaCpp_Layout_Puts_Image_Token_K_At_P0_Row_Column_And_Advances_By_Max_Side(int nx, int ny)
    {
        const int p0 = 3;
        var ids = new MropeLayout().AddText(p0).AddImage(nx, ny).AddText(2).Build();
        for (int p = 0; p < p0; p++) Assert.Equal((p, p, p), ids[p]);
        for (int k = 0; k < nx * ny; k++) Assert.Equal((p0, p0 + k / nx, p0 + k % nx), ids[p0 + k]);
        int after = p0 + Math.Max(nx, ny);
        Assert.Equal((after, after, after), ids[p0 + nx * ny]);
        Assert.Equal((after + 1, after + 1, after + 1), ids[p0 + nx * ny + 1]);
    }

    [Fact]
    public void LlamaCpp_And_HuggingFace_Agree_On_An_Image_Prompt()
    {
        var hf = Rope([Txt, Boi, Img, Img, Img, Img, Img, Img, Eoi, Txt], [new GridThw(1, 4, 6)], []);
        var mtmd = new MropeLayout().AddText(2).AddImage(3, 2).AddText(2).Build();
        Assert.Equal(hf.T, mtmd.T);
        Assert.Equal(hf.H, mtmd.H);
        Assert.Equal(hf.W, mtmd.W);
    }
}
