using GlmSharp.Configs;
using GlmSharp.Imaging;
using GlmSharp.Vision;
using SkiaSharp;

namespace GlmSharp.Tests.Vision;

public sealed class ImagePreprocessorTests
{
    private static readonly double[] Mean = [0.48145466, 0.4578275, 0.40821073];
    private static readonly double[] Std = [0.26862954, 0.26130258, 0.27577711];

    private static byte Value(int x, int y, int c) => (byte)((x * 9 + y * 5 + c * 80) % 256);

    [Theory]
    [InlineData(ImagePreprocessing.HuggingFace)]
    [InlineData(ImagePreprocessing.LlamaCpp)]
    public void Unresized_Image_Gives_Normalised_Pixels_In_Merge_Block_Patch_Order(ImagePreprocessing mode)
    {
        // 84 wide × 56 high is a multiple of 28 and the budgets are lowered so neither reference resizes it:
        // a 6 × 4 patch grid, 6 merged tokens.
        const int width = 84, height = 56, patch = 14;
        var config = Glm4vPreprocessorConfig.Default with { MinPixels = 1 };
        var preprocessor = new ImagePreprocessor(config, mode, llamaCppMinTokens: 1);
        var rgba = TestImages.Rgba(width, height, (x, y, c) => c == 3 ? (byte)255 : Value(x, y, c));
        var input = preprocessor.Preprocess(new RgbaImage(width, height, rgba), "synthetic");

        Assert.Equal((1, 4, 6), (input.GridT, input.GridH, input.GridW));
        Assert.Equal(6, input.MergedTokenCount);
        Assert.Equal(1176, input.RowLength);
        for (int r = 0; r < 4; r++)
            for (int col = 0; col < 6; col++)
            {
                // (block row, block column, row in block, column in block), blocks 2 × 2 and 3 blocks across.
                int row = ((r / 2) * 3 + col / 2) * 4 + (r % 2) * 2 + col % 2;
                var values = input.Row(row);
                for (int c = 0; c < 3; c++)
                    for (int t = 0; t < 2; t++)
                        for (int py = 0; py < patch; py += 5)
                            for (int px = 0; px < patch; px += 3)
                            {
                                double expected = (Value(col * patch + px, r * patch + py, c) / 255.0 - Mean[c]) / Std[c];
                                float actual = values[((c * 2 + t) * patch + py) * patch + px];
                                Assert.True(Math.Abs(actual - expected) < 2e-6, $"patch ({r},{col}) c{c} t{t} ({px},{py}): {actual} vs {expected}");
                            }
            }
    }

    [Fact]
    public void Bicubic_Halving_Matches_The_Cubic_Kernel_Worked_By_Hand()
    {
        // Row [0, 0, 255, 255] → 2 pixels. Scale 2 widens the a = −0.5 kernel to support 4: output 0 is centred at 1.0
        // and reads inputs 0..3 at distances (−0.5, 0.5, 1.5, 2.5)/2 → weights 0.8671875, 0.8671875, 0.2265625,
        // −0.0703125 (sum 1.890625): 255·0.15625/1.890625 = 21.07 → 21; output 1 mirrors it: 233.93 → 234.
        var source = new RgbImage(4, 1, [0, 0, 0, 0, 0, 0, 255, 255, 255, 255, 255, 255]);
        var halved = AntialiasedBicubic.Resize(source, 2, 1);
        Assert.Equal(new byte[] { 21, 21, 21, 234, 234, 234 }, halved.Pixels);
    }

    [Fact]
    public void Bicubic_Enlarging_Renormalises_The_Kernel_Cut_At_The_Border()
    {
        // Row [0, 255] → 4 pixels: centres at 0.25, 0.75, 1.25, 1.75 with support 2 reach only inputs 0 and 1.
        // Output 0 reads them at distances 0.25 and 1.25: weights 0.8671875 and −0.0703125, renormalised by their sum
        // 0.796875, give 255 · −0.0882 = −22.5 → clamped to 0. Output 1 (distances 0.25 and 0.75): 0.8671875 and
        // 0.2265625 over 1.09375 give 255 · 0.2071 = 52.8 → 53. Outputs 2 and 3 mirror them: 202 and 255.
        var source = new RgbImage(2, 1, [0, 0, 0, 255, 255, 255]);
        var enlarged = AntialiasedBicubic.Resize(source, 4, 1);
        Assert.Equal(new byte[] { 0, 0, 0, 53, 53, 53, 202, 202, 202, 255, 255, 255 }, enlarged.Pixels);
    }

    [Fact]
    public void Bicubic_Keeps_A_Flat_Image_Flat_When_Enlarging_Or_Shrinking()
    {
        var flat = RgbImage.Filled(37, 23, 90, 160, 250);
        Assert.All(AntialiasedBicubic.Resize(flat, 56, 28).Pixels.Chunk(3), p => Assert.Equal(new byte[] { 90, 160, 250 }, p));
        Assert.All(AntialiasedBicubic.Resize(flat, 28, 14).Pixels.Chunk(3), p => Assert.Equal(new byte[] { 90, 160, 250 }, p));
    }

    [Fact]
    public void LlamaCpp_Bilinear_Aligns_The_Corners_And_Truncates()
    {
        // Red and blue 0 → 100, green 0 → 99, widened to 5 pixels: source x = i · (2 − 1)/(5 − 1) = 0, 0.25, 0.5, 0.75, 1,
        // so red and blue are 0, 25, 50, 75, 100 and green 0, 24.75, 49.5, 74.25, 99 truncated to 0, 24, 49, 74, 99.
        var source = new RgbImage(2, 1, [0, 0, 0, 100, 99, 100]);
        var wide = LlamaCppBilinear.Resize(source, 5, 1);
        Assert.Equal(new byte[] { 0, 0, 0, 25, 24, 25, 50, 49, 50, 75, 74, 75, 100, 99, 100 }, wide.Pixels);
    }

    [Fact]
    public void LlamaCpp_Letterbox_Centres_The_Image_On_Black()
    {
        // 4 × 2 onto 8 × 8: scale min(8/4, 8/2) = 2 → 8 × 4 placed at row (8 − 4)/2 = 2.
        var canvas = LlamaCppBilinear.FitOnBlackCanvas(RgbImage.Filled(4, 2, 200, 200, 200), 8, 8);
        for (int y = 0; y < 8; y++)
            for (int x = 0; x < 8; x++)
                Assert.Equal(y is >= 2 and < 6 ? 200 : 0, canvas[x, y, 0]);
    }

    [Fact]
    public void LlamaCpp_Path_Keeps_The_Aspect_Ratio_Where_HuggingFace_Stretches()
    {
        // 300 × 100 white image, HF: 100/28 = 3.57 → 112, 300/28 = 10.7 → 308: stretched, all white.
        // llama.cpp: the same 308 × 112 canvas; scale min(308/300, 112/100) = 1.0267 → 308 × ceil(102.67) = 103 rows,
        // offset (112 − 103)/2 = 4: rows 0–3 and 107–111 are black.
        var white = new RgbaImage(300, 100, TestImages.Rgba(300, 100, (_, _, _) => 255));
        var hf = new ImagePreprocessor(Glm4vPreprocessorConfig.Default).Preprocess(white, "w");
        var ll = new ImagePreprocessor(Glm4vPreprocessorConfig.Default, ImagePreprocessing.LlamaCpp).Preprocess(white, "w");
        Assert.Equal((8, 22), (hf.GridH, hf.GridW));
        Assert.Equal((8, 22), (ll.GridH, ll.GridW));
        float whiteRed = (float)((1 - Mean[0]) / Std[0]), blackRed = (float)(-Mean[0] / Std[0]);
        Assert.All(hf.Patches, v => Assert.True(v > 1.5f));
        // Patch (0, 0) is the first row; its red slice has pixel rows 0–3 black and row 4 white.
        var first = ll.Row(0);
        Assert.Equal(blackRed, first[3 * 14], 5);
        Assert.Equal(whiteRed, first[4 * 14], 5);
    }

    [Fact]
    public void Image_Above_The_Aspect_Limit_Is_Refused_Naming_The_File()
    {
        var png = TestImages.Encode(300, 1, TestImages.Rgba(300, 1, (_, _, _) => 255), SKEncodedImageFormat.Png);
        string path = TestImages.WriteTemp(png, ".png");
        try
        {
            var e = Assert.Throws<ImageInputException>(() => new ImagePreprocessor(Glm4vPreprocessorConfig.Default).Preprocess(ImageDecoder.DecodeFile(path), path));
            Assert.StartsWith(path + ": aspect ratio 300", e.Message);
        }
        finally { File.Delete(path); }
    }
}
