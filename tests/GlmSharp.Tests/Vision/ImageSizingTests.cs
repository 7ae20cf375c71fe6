using GlmSharp.Configs;
using GlmSharp.Vision;

namespace GlmSharp.Tests.Vision;

/// <summary>Resized sizes worked out by hand from transformers' smart_resize and from llama.cpp's calc_size_preserved_ratio.</summary>
public sealed class ImageSizingTests
{
    private const int Factor = 28;
    private const long ClassMaxPixels = 28 * 28 * 15000;      // Glm4vImageProcessor's default
    private const long ShippedMaxPixels = 14 * 14 * 2 * 2 * 2 * 6144; // smart_resize's default, GLM-4.1V's file
    private const int LlamaMinPixels = 8 * 28 * 28, LlamaMaxPixels = 4096 * 28 * 28;

    [Theory]
    // Already multiples of 28 and 2·448·448 = 401,408 is inside [12,544, 11,760,000]: unchanged.
    [InlineData(448, 448, ClassMaxPixels, 448, 448)]
    // Non-square: 100/28 = 3.57 → 4 → 112; 200/28 = 7.14 → 7 → 196; 2·112·196 = 43,904 fits.
    [InlineData(100, 200, ClassMaxPixels, 112, 196)]
    [InlineData(200, 100, ClassMaxPixels, 196, 112)]
    // Python's round is half to even: 70/28 = 2.5 → 2, 42/28 = 1.5 → 2, giving 56×56 and 2·56·56 = 6,272 < 12,544,
    // so β = sqrt(12544 / (2·70·42)) = 1.4606: ceil(70β/28) = ceil(3.65) = 4 → 112, ceil(42β/28) = ceil(2.19) = 3 → 84.
    [InlineData(70, 42, ClassMaxPixels, 112, 84)]
    // 1080/28 = 38.57 → 39 → 1092; 1920/28 = 68.57 → 69 → 1932; 2·1092·1932 = 4.2 M fits.
    [InlineData(1080, 1920, ClassMaxPixels, 1092, 1932)]
    // Above the cap: rounded 2996×4004 gives 2·2996·4004 = 24.0 M > 11.76 M, β = sqrt(24 M / 11.76 M) = 10/7 exactly,
    // so 3000/β/28 = 75 and 4000/β/28 = 100 land on the boundary: 2100 × 2800.
    [InlineData(3000, 4000, ClassMaxPixels, 2100, 2800)]
    // GLM-4.1V's shipped budget 9,633,792: β = sqrt(24 M / 9,633,792) = 1.5784; floor(3000/β/28) = floor(67.88) = 67 → 1876,
    // floor(4000/β/28) = floor(90.51) = 90 → 2520.
    [InlineData(3000, 4000, ShippedMaxPixels, 1876, 2520)]
    // A side under 28 is scaled up first: scale = max(28/10, 28/500) = 2.8 → 28 × 1400, which then fits.
    [InlineData(10, 500, ClassMaxPixels, 28, 1400)]
    public void HuggingFace_SmartResize_Matches_Hand_Computed_Sizes(int height, int width, long maxPixels, int expectedHeight, int expectedWidth)
    {
        var size = HuggingFaceImageSizing.Resize(height, width, Factor, 112 * 112, maxPixels, 2, "test.png");
        Assert.Equal(new ImageSize(expectedHeight, expectedWidth), size);
    }

    [Fact]
    public void HuggingFace_Refuses_An_Aspect_Ratio_Above_200_Naming_The_File()
    {
        // 1×300 is first scaled by 28 to 28×8400: ratio 300.
        var e = Assert.Throws<ImageInputException>(() => HuggingFaceImageSizing.Resize(1, 300, Factor, 112 * 112, ClassMaxPixels, 2, "strip.png"));
        Assert.Contains("strip.png", e.Message);
        Assert.Contains("200", e.Message);
    }

    [Theory]
    [InlineData(448, 448, 448, 448)]
    [InlineData(100, 200, 112, 196)]
    // std::round is half away from zero: 70/28 = 2.5 → 3 → 84, 42/28 = 1.5 → 2 → 56; 84·56 = 4,704 < 6,272 (8 tokens),
    // β = sqrt(6272 / 2940) = 1.4606: ceil(3.65) = 4 → 112, ceil(2.19) = 3 → 84.
    [InlineData(70, 42, 112, 84)]
    // 2996·4004 = 12.0 M > 3,211,264 (4096 tokens): β = sqrt(12 M / 3,211,264) = 1.9331;
    // floor(3000/β/28) = floor(55.43) = 55 → 1540, floor(4000/β/28) = floor(73.90) = 73 → 2044 (4015 tokens).
    [InlineData(3000, 4000, 1540, 2044)]
    public void LlamaCpp_Size_Matches_Hand_Computed_Sizes(int height, int width, int expectedHeight, int expectedWidth)
    {
        var size = LlamaCppImageSizing.Resize(height, width, Factor, LlamaMinPixels, LlamaMaxPixels);
        Assert.Equal(new ImageSize(expectedHeight, expectedWidth), size);
    }

    [Fact]
    public void The_Preprocessor_Uses_The_Configured_Budget_And_Mtmd_Token_Limits()
    {
        var config = Glm4vPreprocessorConfig.Default with { MaxPixels = ShippedMaxPixels };
        Assert.Equal(new ImageSize(1876, 2520), new ImagePreprocessor(config).TargetSize(3000, 4000, "x"));
        Assert.Equal(new ImageSize(1540, 2044), new ImagePreprocessor(config, ImagePreprocessing.LlamaCpp).TargetSize(3000, 4000, "x"));
        // --image-max-tokens 1024: β = sqrt(12 M / 802,816) = 3.8662; floor(27.71) = 27 → 756, floor(36.95) = 36 → 1008.
        Assert.Equal(new ImageSize(756, 1008), new ImagePreprocessor(config, ImagePreprocessing.LlamaCpp, 8, 1024).TargetSize(3000, 4000, "x"));
    }
}
