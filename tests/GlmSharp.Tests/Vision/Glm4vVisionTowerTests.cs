using GlmSharp.Errors;
using GlmSharp.Formats.Safetensors;
using GlmSharp.Tests.Support;
using GlmSharp.Vision;

namespace GlmSharp.Tests.Vision;

/// <summary>The vision tower's loading: both checkpoint formats give the same tokens, and a bad mmproj fails by name.</summary>
public sealed class Glm4vVisionTowerTests
{
    private static readonly TinyGlm4vShape Shape = new(64, 4, 2, 16, 96, [1, 1, 2, 0], 32, 2, 2, 4, 6, 80);

    [Fact]
    public void Hugging_Face_Tensors_And_The_Mmproj_Of_The_Same_Weights_Give_The_Same_Image_Tokens()
    {
        using var dir = new TempDirectory();
        var vision = new RandomGlm4vVision(Shape.Vision, seed: 12);
        using var fromMmproj = Glm4vVisionTower.FromMmproj(vision.WriteMmproj(dir.File("mmproj.gguf")));
        using var fromHf = Glm4vVisionTower.FromHuggingFace(SafetensorsTensorSource.OpenSingle(vision.WriteSafetensors(dir.File("model.safetensors"))),
            Shape.Vision, vision.Preprocessor());
        var input = new ImagePreprocessor(vision.Preprocessor(), ImagePreprocessing.HuggingFace)
            .Preprocess(Glm4vOracleTests.ToRgba(Glm4vOracleTests.Pattern(40, 24)), "pattern");

        var expected = fromMmproj.Encode(input);
        var actual = fromHf.Encode(input);
        Assert.Equal(input.MergedTokenCount * Shape.Hidden, expected.Length);
        double scale = expected.Max(MathF.Abs);
        // The mmproj holds the Conv3d kernel as two slices, summed back into one kernel: equal up to fp32 rounding.
        Assert.All(expected.Zip(actual), pair => Assert.True(Math.Abs(pair.First - pair.Second) <= 1e-5 * scale, $"{pair.First} vs {pair.Second}"));
    }

    [Fact]
    public void Mmproj_Of_Another_Projector_Is_Refused_By_Name()
    {
        using var dir = new TempDirectory();
        string path = new RandomGlm4vVision(Shape.Vision, seed: 1).WriteMmproj(dir.File("qwen.gguf"),
            metadataOverrides: new Dictionary<string, object> { [MmprojKeys.ProjectorType] = "qwen2vl_merger" });
        var e = Assert.Throws<UnsupportedModelException>(() => Glm4vVisionTower.FromMmproj(path));
        Assert.Contains($"{path}: projector type 'qwen2vl_merger' is not supported", e.Message);
    }

    [Fact]
    public void Missing_Mmproj_File_Is_Named() =>
        Assert.Contains("/no/such/mmproj.gguf: mmproj file not found", Assert.Throws<ModelFormatException>(() => Glm4vVisionTower.FromMmproj("/no/such/mmproj.gguf")).Message);
}
