using GlmSharp.Configs;
using GlmSharp.Errors;
using GlmSharp.Inference;
using GlmSharp.Kernels;
using GlmSharp.Models;
using GlmSharp.Models.Architectures;
using GlmSharp.Tests.Support;
using GlmSharp.Vision;
using Xunit.Abstractions;

namespace GlmSharp.Tests.Vision;

/// <summary>
/// Hugging Face GLM-4.1V and GLM-4.5V checkpoints (Glm4vForConditionalGeneration, Glm4vMoeForConditionalGeneration): a
/// random folder written by our own writers runs an image prompt as libmtmd runs the GGUF text + mmproj pair made from
/// the same weights (GLM-4.1V's q/k rows reordered by llama.cpp's converter, GLM-4.5V's as they are), and as GlmSharp
/// runs that pair; the real checkpoints' tensor lists; refusals that name the field or tensor.
/// </summary>
public sealed class Glm4vCheckpointTests(ITestOutputHelper output)
{
    private const double Tolerance = 2e-3;
    private const string Prompt = "Look at the picture: <__media__> What is in it?";

    [Theory]
    [Trait("Oracle", "llama.cpp")]
    [MemberData(nameof(Glm4vOracleTests.Shapes), MemberType = typeof(Glm4vOracleTests))]
    public void Folder_Logits_Match_LibMtmd_On_The_Gguf_Pair_Of_The_Same_Weights(TinyGlm4vShape shape)
    {
        using var dir = new TempDirectory();
        var model = TinyGlm4vModel.Write(dir, shape, seed: shape.Hidden + 2 * shape.VisionHidden);
        string folder = model.WriteHuggingFace(dir.File("hf"));
        int factor = shape.PatchSize * 2;
        // Sides already multiples of patch × merge, inside both references' limits: neither pre-processing resizes it.
        var image = Glm4vOracleTests.Pattern(6 * factor, 4 * factor);
        var expected = LibMtmd.Run(model.TextGguf, model.Mmproj, image, Prompt, model.VocabSize, maxImageTokens: 48);

        using var loaded = ModelLoader.Load(folder);
        Assert.Equal(shape.Moe ? typeof(Glm4vMoe) : typeof(Glm4v), loaded.Architecture.GetType());
        using var encoder = ImageEncoder.Open(loaded, mmprojPath: null);
        Assert.Equal(ImagePreprocessing.HuggingFace, encoder.Preprocessor.Mode);
        var encoded = encoder.Encode(Glm4vOracleTests.ToRgba(image), "pattern");
        Assert.Equal((expected.ImageRows, expected.ImageCols), (encoded.Rows, encoded.Cols));
        var prompt = MultimodalPrompt.FromText(Prompt.Replace(ImagePrompt.Marker, ImagePrompt.Placeholder), loaded.Tokenizer!, [encoded], encoder.ImageTokenId, folder);
        int[] expectedTokens = [.. expected.TextBefore, .. Enumerable.Repeat(encoder.ImageTokenId, encoded.Tokens), .. expected.TextAfter];
        Assert.Equal(expectedTokens, prompt.Tokens);
        var logits = prompt.Logits(loaded.Model, LogitsFor.LastToken, KvCacheType.F32);

        double embeddingError = LogitComparison.WorstRelativeError(encoded.Embeddings, expected.ImageEmbeddings, encoded.Embeddings.Length);
        double logitError = LogitComparison.WorstRelativeError(logits, expected.LastLogits, model.VocabSize);
        output.WriteLine($"{shape}: folder vs libmtmd embeddings {embeddingError:E2}, last logits {logitError:E2}");
        Assert.True(embeddingError <= Tolerance, $"image embeddings differ by {embeddingError:E2} of the largest");
        Assert.True(logitError <= Tolerance, $"last logits differ by {logitError:E2} of the largest");
        Assert.Equal(Sampler.ArgMax(expected.LastLogits), Sampler.ArgMax(logits));

        // The GGUF pair through GlmSharp: the same network with the q/k rows and the rotation pairs both reordered.
        using var gguf = ModelLoader.Load(model.TextGguf);
        using var ggufEncoder = ImageEncoder.Open(gguf, model.Mmproj);
        var ggufPrompt = MultimodalPrompt.FromText(Prompt.Replace(ImagePrompt.Marker, ImagePrompt.Placeholder), gguf.Tokenizer!,
            [ggufEncoder.Encode(Glm4vOracleTests.ToRgba(image), "pattern")], ggufEncoder.ImageTokenId, model.TextGguf);
        double pairError = LogitComparison.WorstRelativeError(logits, ggufPrompt.Logits(gguf.Model, LogitsFor.LastToken, KvCacheType.F32), model.VocabSize);
        output.WriteLine($"{shape}: folder vs GGUF pair last logits {pairError:E2}");
        Assert.True(pairError <= 1e-4, $"folder and GGUF pair differ by {pairError:E2} of the largest");
    }

    [Theory]
    [InlineData("glm-4.1v-9b-thinking")]
    [InlineData("glm-4.5v")]
    [InlineData("glm-ocr")]
    public void Checkpoint_Tensor_Names_And_Shapes_Match_The_Golden_Listing(string checkpoint)
    {
        string golden = Path.Combine(AppContext.BaseDirectory, "Golden");
        string configPath = Path.Combine(golden, $"{checkpoint}.config.json");
        var json = ConfigJson.Load(configPath);
        var architecture = ModelRegistry.ByModelType(json.String("model_type"), configPath);
        var text = TensorListing.For(architecture, architecture.ConfigFromHf(json)).Select(t => (Name: Glm4v.StoredName(t.Name), t.Shape));
        var actual = text.Concat(Glm4vVisionTensors.HuggingFace(Glm4vConfig.Load(configPath).Vision))
            .Select(t => $"{t.Name} [{string.Join(",", t.Shape)}]").Order(StringComparer.Ordinal).ToArray();
        var expected = File.ReadAllLines(Path.Combine(golden, $"{checkpoint}.tensors.txt")).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void Glm45V_Config_Reads_As_Glm45_Air_Layers_With_Mrope_Sections_And_Its_Marker_Ids()
    {
        var config = Glm4vConfig.Load(Path.Combine(AppContext.BaseDirectory, "Golden", "glm-4.5v.config.json"));
        var text = Assert.IsType<Glm4MoeConfig>(config.Text);
        Assert.Equal("glm4v_moe", text.ModelType);
        Assert.Equal(new[] { 8, 12, 12, 0 }, text.MropeSections);
        Assert.Equal((4096, 46, 96, 8, 64, 151552, 65536), (text.HiddenSize, text.NumLayers, text.NumHeads, text.NumKvHeads, text.RotaryDims, text.VocabSize, text.MaxPositions));
        Assert.Equal((128, 8, 1408, 1, 1, false, 0), (text.Moe.RoutedExperts, text.Moe.ExpertsPerToken, text.Moe.ExpertIntermediateSize, text.Moe.FirstDenseLayers, text.Moe.SharedExperts, text.UseQkNorm, text.NextNLayers));
        Assert.Equal((10000.0, true), (text.RopeTheta, text.AttentionBias));
        Assert.Equal(10944, config.Vision.IntermediateSize);
        Assert.Equal((151363, 151364, 151339, 151340, 151341, 151342),
            (config.ImageTokenId, config.VideoTokenId, config.ImageStartTokenId, config.ImageEndTokenId, config.VideoStartTokenId, config.VideoEndTokenId));
    }

    [Fact]
    public void Absent_Glm4v_Moe_Keys_Take_The_Glm4v_Moe_Class_Defaults()
    {
        var config = Glm4vConfig.FromJson(ConfigJson.Parse("""
            {"model_type": "glm4v_moe", "text_config": {"rope_scaling": {"mrope_section": [8, 12, 12]}}, "vision_config": {}}
            """, "config.json"));
        Assert.Equal((151424, 65536, true, 151363, 151364), (config.Text.VocabSize, config.Text.MaxPositions, config.Text.AttentionBias, config.ImageTokenId, config.VideoTokenId));
    }

    [Fact]
    public void Glm4v_Moe_Folder_Converts_To_A_Glm4moe_Gguf_With_Sections_That_Gives_The_Same_Logits()
    {
        using var dir = new TempDirectory();
        string folder = TinyGlm4vModel.Write(dir, MoeShape, seed: 8).WriteHuggingFace(dir.File("hf"));
        string gguf = dir.File("converted.gguf");
        var result = GlmCli.Run("convert", folder, gguf, "--type", "f32");
        Assert.True(result.ExitCode == 0, result.Stderr);
        using var converted = ModelLoader.Load(gguf);
        using var original = ModelLoader.Load(folder);
        Assert.Equal("glm4_moe", converted.Config.ModelType);
        Assert.Equal([2, 1, 1, 0], converted.Config.MropeSections!);
        int[] prompt = [5, 17, 40, 2, 99, 140];
        double error = LogitComparison.WorstRelativeError(MultimodalPrompt.Text(prompt).Logits(converted.Model), MultimodalPrompt.Text(prompt).Logits(original.Model), original.Config.VocabSize);
        Assert.True(error <= 1e-5, $"converted and original differ by {error:E2} of the largest");
    }

    [Fact]
    public void Config_Json_Reads_As_The_Glm4v_Text_Model_With_Mrope_Sections()
    {
        var config = HfConfigLoader.Load(Path.Combine(AppContext.BaseDirectory, "Golden", "glm-4.1v-9b-thinking.config.json"));
        Assert.Equal("glm4v", config.ModelType);
        Assert.Equal(new[] { 8, 12, 12, 0 }, config.MropeSections);
        Assert.Equal((4096, 40, 151552, 65536), (config.HiddenSize, config.NumLayers, config.VocabSize, config.MaxPositions));
    }

    [Theory]
    [InlineData(false, "glm4v (llama.cpp: glm4)", "M-RoPE sections [1,1,2,0] (t, h, w, spare)")]
    [InlineData(true, "glm4v_moe (llama.cpp: glm4moe)", "M-RoPE sections [2,1,1,0] (t, h, w, spare)", "8 routed (top 2, width 32) + 1 shared from layer 1")]
    public void Glm_Info_Lists_The_Folder(bool moe, params string[] lines)
    {
        using var dir = new TempDirectory();
        string folder = TinyGlm4vModel.Write(dir, moe ? MoeShape : Shape, seed: 4).WriteHuggingFace(dir.File("hf"));
        var result = GlmCli.Run("info", "--model", folder);
        Assert.True(result.ExitCode == 0, result.Stderr);
        foreach (string line in lines) Assert.Contains(line, result.Stdout);
    }

    [Fact]
    public void Missing_Text_Config_Is_Named()
    {
        var e = Assert.Throws<ModelFormatException>(() => Glm4vConfig.FromJson(ConfigJson.Parse("""{"model_type": "glm4v", "vision_config": {}}""", "config.json")));
        Assert.Equal("config.json: required field 'text_config' (an object) is missing", e.Message);
    }

    [Fact]
    public void Text_Config_With_A_Field_Of_The_Wrong_Type_Is_Named()
    {
        var e = Assert.ThrowsAny<GlmException>(() => Glm4vConfig.FromJson(ConfigJson.Parse(
            """{"model_type": "glm4v", "text_config": {"hidden_size": "wide", "rope_scaling": {"mrope_section": [8, 12, 12]}}, "vision_config": {}}""", "config.json")));
        Assert.Contains("'hidden_size'", e.Message);
        Assert.StartsWith("config.json:text_config", e.Message);
    }

    [Fact]
    public void Folder_Without_Vision_Tensors_Is_Refused_Naming_The_Tensor()
    {
        using var dir = new TempDirectory();
        var model = TinyGlm4vModel.Write(dir, Shape, seed: 4);
        string folder = model.WriteHuggingFace(dir.File("hf"), withVision: false);
        using var loaded = ModelLoader.Load(folder);
        var e = Assert.Throws<ModelFormatException>(() => ImageEncoder.Open(loaded, mmprojPath: null));
        Assert.Contains("tensor 'model.visual.patch_embed.proj.weight' is missing", e.Message);
    }

    [Fact]
    public void Vision_Tensors_Of_Another_Width_Are_Refused_Naming_The_Tensor()
    {
        using var dir = new TempDirectory();
        var model = TinyGlm4vModel.Write(dir, Shape, seed: 4);
        var narrow = model with { Vision = new RandomGlm4vVision(Shape.Vision with { HiddenSize = 16, NumHeads = 2 }, seed: 6) };
        string folder = narrow.WriteHuggingFace(dir.File("hf"));
        // config.json says the tower is 32 wide; its tensors are 16 wide.
        File.Copy(Path.Combine(model.WriteHuggingFace(dir.File("hf-32")), "config.json"), Path.Combine(folder, "config.json"), overwrite: true);
        using var loaded = ModelLoader.Load(folder);
        var e = Assert.Throws<ModelFormatException>(() => ImageEncoder.Open(loaded, mmprojPath: null));
        Assert.Matches(@"tensor 'model\.visual\.[a-z_.0-9]+' has shape \[.*\], expected \[.*\]", e.Message);
    }

    [Fact]
    public void Converting_A_Glm4v_Folder_To_Gguf_Is_Refused()
    {
        var e = Assert.Throws<UnsupportedModelException>(() => ModelRegistry.ByModelType("glm4v", "test").GgufMetadata(
            HfConfigLoader.Load(Path.Combine(AppContext.BaseDirectory, "Golden", "glm-4.1v-9b-thinking.config.json"))));
        Assert.Contains("reorders the q/k rows", e.Message);
    }

    private static readonly TinyGlm4vShape Shape = new(64, 4, 2, 16, 96, [1, 1, 2, 0], 32, 2, 2, 4, 6, 80);
    private static readonly TinyGlm4vShape MoeShape = Shape with { Sections = [2, 1, 1, 0], Experts = 8, ExpertsPerToken = 2, ExpertWidth = 32 };
}
