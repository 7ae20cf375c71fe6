using GlmSharp.Configs;
using GlmSharp.Errors;
using GlmSharp.Formats.Gguf;
using GlmSharp.Vision;

namespace GlmSharp.Tests.Vision;

public sealed class Glm4vConfigTests
{
    private static string Golden(string file) => Path.Combine(AppContext.BaseDirectory, "Golden", file);

    private const string MinimalConfig = """
        {"model_type": "glm4v",
         "text_config": {"hidden_size": 4096, "rope_scaling": {"rope_type": "default", "mrope_section": [8, 12, 12]}},
         "vision_config": {}}
        """;

    private static ModelFormatException Refused(string json) =>
        Assert.Throws<ModelFormatException>(() => Glm4vConfig.FromJson(ConfigJson.Parse(json, "config.json")));

    [Fact]
    public void Glm41V_Config_Reads_Text_Vision_And_Marker_Ids()
    {
        var config = Glm4vConfig.Load(Golden("glm-4.1v-9b-thinking.config.json"));
        Assert.Equal((4096, 40, 32, 2, 128, 64), (config.Text.HiddenSize, config.Text.NumLayers, config.Text.NumHeads, config.Text.NumKvHeads, config.Text.HeadDim, config.Text.RotaryDims));
        Assert.Equal((65536, 1e-5, true), (config.Text.MaxPositions, config.Text.RmsNormEps, config.Text.AttentionBias));
        Assert.Equal([8, 12, 12], config.MropeSection);
        Assert.Equal((24, 1536, 12, 128, 24), (config.Vision.Depth, config.Vision.HiddenSize, config.Vision.NumHeads, config.Vision.HeadDim, config.Vision.PositionGridSide));
        Assert.Equal((4096, 13696), (config.Vision.OutHiddenSize, config.Vision.IntermediateSize));
        Assert.Equal((151343, 151344, 151339, 151340, 151341, 151342),
            (config.ImageTokenId, config.VideoTokenId, config.ImageStartTokenId, config.ImageEndTokenId, config.VideoStartTokenId, config.VideoEndTokenId));
    }

    [Fact]
    public void Absent_Keys_Take_The_Glm4v_Class_Defaults()
    {
        var config = Glm4vConfig.FromJson(ConfigJson.Parse(MinimalConfig, "config.json"));
        Assert.Equal((32768, 1e-5), (config.Text.MaxPositions, config.Text.RmsNormEps));
        Assert.Equal((24, 1536, 336, 14, 2), (config.Vision.Depth, config.Vision.HiddenSize, config.Vision.ImageSize, config.Vision.PatchSize, config.Vision.SpatialMergeSize));
        Assert.Equal(151343, config.ImageTokenId);
    }

    [Fact]
    public void Missing_Vision_Config_Is_Named()
    {
        var e = Refused("""{"model_type": "glm4v", "text_config": {}}""");
        Assert.Equal("config.json: required field 'vision_config' (an object) is missing", e.Message);
    }

    [Fact]
    public void Mrope_Section_Not_Covering_The_Rotary_Half_Is_Named()
    {
        var e = Refused(MinimalConfig.Replace("[8, 12, 12]", "[8, 12, 8]"));
        Assert.Equal("config.json:text_config:rope_scaling: field 'mrope_section' [8, 12, 8] sums to 28, expected rotary dims / 2 = 32", e.Message);
    }

    [Fact]
    public void Missing_Mrope_Section_Is_Named()
    {
        var e = Refused(MinimalConfig.Replace(""", "mrope_section": [8, 12, 12]""", ""));
        Assert.Contains("'mrope_section'", e.Message);
        Assert.StartsWith("config.json:text_config:rope_scaling:", e.Message);
    }

    [Fact]
    public void Vision_Output_Width_Must_Match_The_Text_Hidden_Size()
    {
        var e = Refused(MinimalConfig.Replace("\"vision_config\": {}", "\"vision_config\": {\"out_hidden_size\": 2048}"));
        Assert.Equal("config.json:vision_config: field 'out_hidden_size' is 2048, but text_config.hidden_size is 4096", e.Message);
    }

    [Theory]
    [InlineData("{\"num_heads\": 0}", "field 'num_heads' is 0, expected ≥ 1")]
    [InlineData("{\"num_heads\": 10}", "field 'hidden_size' = 1536 over 'num_heads' = 10")]
    [InlineData("{\"image_size\": 340}", "field 'image_size' = 340 is not a multiple of 'patch_size' = 14")]
    [InlineData("{\"in_channels\": 4}", "field 'in_channels' is 4, glm4v takes RGB (3)")]
    public void Bad_Vision_Fields_Are_Named(string vision, string message)
    {
        var e = Refused(MinimalConfig.Replace("\"vision_config\": {}", $"\"vision_config\": {vision}"));
        Assert.StartsWith("config.json:vision_config: " + message, e.Message);
    }

    [Fact]
    public void Preprocessor_Config_Reads_The_Pixel_Budget_And_Normalisation()
    {
        var config = Glm4vPreprocessorConfig.Load(Golden("glm-4.1v-9b-thinking.preprocessor_config.json"));
        Assert.Equal((12544L, 9633792L), (config.MinPixels, config.MaxPixels));
        Assert.Equal((14, 2, 2, 28, 1176), (config.PatchSize, config.TemporalPatchSize, config.MergeSize, config.Factor, config.PatchRowLength));
        Assert.Equal([0.48145466f, 0.4578275f, 0.40821073f], config.ImageMean);
    }

    [Fact]
    public void Preprocessor_Config_Defaults_And_Older_Min_Max_Pixel_Keys()
    {
        var empty = Glm4vPreprocessorConfig.FromJson(ConfigJson.Parse("{}", "p.json"));
        Assert.Equal((112L * 112, 28L * 28 * 15000), (empty.MinPixels, empty.MaxPixels));
        var older = Glm4vPreprocessorConfig.FromJson(ConfigJson.Parse("""{"min_pixels": 3136, "max_pixels": 1003520}""", "p.json"));
        Assert.Equal((3136L, 1003520L), (older.MinPixels, older.MaxPixels));
    }

    [Theory]
    [InlineData("""{"image_std": [0.2, 0, 0.2]}""", "p.json: field 'image_std' must hold positive numbers")]
    [InlineData("""{"image_mean": [0.5, 0.5]}""", "p.json: field 'image_mean' must be a list of 3 numbers")]
    [InlineData("""{"size": {"shortest_edge": 1000, "longest_edge": 10}}""", "p.json: field 'size.longest_edge' (max pixels) is 10, below the min pixels 1000")]
    [InlineData("""{"do_normalize": false}""", "p.json: field 'do_normalize' is false")]
    [InlineData("""{"patch_size": 0}""", "p.json: field 'patch_size' is 0, expected ≥ 1")]
    [InlineData("""{"size": {"longest_edge": "big"}}""", "p.json:size: field 'longest_edge' must be an integer")]
    public void Bad_Preprocessor_Fields_Are_Named(string json, string message)
    {
        var e = Assert.Throws<ModelFormatException>(() => Glm4vPreprocessorConfig.FromJson(ConfigJson.Parse(json, "p.json")));
        Assert.StartsWith(message, e.Message);
    }

    private static Dictionary<string, object> Glm41VMmproj() => new()
    {
        [MmprojKeys.Architecture] = "clip",
        [MmprojKeys.ProjectorType] = "glm4v",
        [MmprojKeys.HasVisionEncoder] = true,
        [MmprojKeys.UseSilu] = true,
        [MmprojKeys.BlockCount] = 24u,
        [MmprojKeys.EmbeddingLength] = 1536u,
        [MmprojKeys.HeadCount] = 12u,
        [MmprojKeys.PatchSize] = 14u,
        [MmprojKeys.ImageSize] = 336u,
        [MmprojKeys.ProjectionDim] = 4096u,
        [MmprojKeys.FeedForwardLength] = 13696u,
        [MmprojKeys.LayerNormEpsilon] = 1e-5f,
        [MmprojKeys.ImageMean] = new[] { 0.48145466f, 0.4578275f, 0.40821073f },
        [MmprojKeys.ImageStd] = new[] { 0.26862954f, 0.26130258f, 0.27577711f },
    };

    [Fact]
    public void Mmproj_Metadata_Gives_The_Same_Tower_As_Config_Json()
    {
        var (vision, preprocessor) = Glm4vMmproj.Read(new GgufMetadata("mmproj.gguf", Glm41VMmproj()));
        var fromJson = Glm4vConfig.Load(Golden("glm-4.1v-9b-thinking.config.json")).Vision;
        Assert.Equal(fromJson with { RmsNormEps = vision.RmsNormEps }, vision);
        Assert.Equal(1e-5, vision.RmsNormEps, 9);
        Assert.Equal((14, 2, 2), (preprocessor.PatchSize, preprocessor.MergeSize, preprocessor.TemporalPatchSize));
        Assert.Equal([0.26862954f, 0.26130258f, 0.27577711f], preprocessor.ImageStd);
    }

    [Fact]
    public void Mmproj_Written_To_Disk_Reads_Back()
    {
        string path = Path.Combine(Path.GetTempPath(), $"glmsharp-mmproj-{Guid.NewGuid():N}.gguf");
        var writer = new GgufWriter();
        foreach (var (key, value) in Glm41VMmproj()) writer.SetMetadata(key, value);
        writer.WriteTo(path);
        try
        {
            using var file = GgufFile.Open(path);
            Assert.Equal(24, Glm4vMmproj.Read(file.Metadata).Vision.Depth);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void Mmproj_Of_Another_Projector_Is_Refused()
    {
        var keys = Glm41VMmproj();
        keys[MmprojKeys.ProjectorType] = "qwen2vl_merger";
        var e = Assert.Throws<UnsupportedModelException>(() => Glm4vMmproj.Read(new GgufMetadata("mmproj.gguf", keys)));
        Assert.Equal("mmproj.gguf: projector type 'qwen2vl_merger' is not supported; GlmSharp reads glm4v mmproj files", e.Message);
    }

    [Fact]
    public void Mmproj_Without_Silu_Is_Refused()
    {
        var keys = Glm41VMmproj();
        keys.Remove(MmprojKeys.UseSilu);
        var e = Assert.Throws<UnsupportedModelException>(() => Glm4vMmproj.Read(new GgufMetadata("mmproj.gguf", keys)));
        Assert.Equal("mmproj.gguf: metadata key 'clip.use_silu' is missing or false; glm4v's vision MLPs are SwiGLU (silu)", e.Message);
    }

    [Fact]
    public void Mmproj_Missing_Or_Bad_Keys_Are_Named()
    {
        var keys = Glm41VMmproj();
        keys.Remove(MmprojKeys.BlockCount);
        Assert.Equal("mmproj.gguf: metadata key 'clip.vision.block_count' (integer) is missing.",
            Assert.Throws<ModelFormatException>(() => Glm4vMmproj.Read(new GgufMetadata("mmproj.gguf", keys))).Message);

        keys = Glm41VMmproj();
        keys[MmprojKeys.HeadCount] = 7u;
        Assert.StartsWith("mmproj.gguf: field 'clip.vision.embedding_length' = 1536 over 'clip.vision.attention.head_count' = 7",
            Assert.Throws<ModelFormatException>(() => Glm4vMmproj.Read(new GgufMetadata("mmproj.gguf", keys))).Message);

        keys = Glm41VMmproj();
        keys[MmprojKeys.ImageMean] = new[] { 0.5f };
        Assert.Equal("mmproj.gguf: metadata key 'clip.vision.image_mean' holds 1 values, expected 3 (R, G, B)",
            Assert.Throws<ModelFormatException>(() => Glm4vMmproj.Read(new GgufMetadata("mmproj.gguf", keys))).Message);
    }

    [Theory]
    [InlineData("vision")]
    [InlineData("mmproj")]
    public void Vision_Tensor_Names_And_Shapes_Match_The_Golden_Listing(string format)
    {
        var vision = Glm4vConfig.Load(Golden("glm-4.1v-9b-thinking.config.json")).Vision;
        var listing = format == "vision" ? Glm4vVisionTensors.HuggingFace(vision) : Glm4vVisionTensors.Mmproj(vision);
        var actual = listing.Select(t => $"{t.Name} [{string.Join(",", t.Shape)}]").Order(StringComparer.Ordinal).ToArray();
        var expected = File.ReadAllLines(Golden($"glm-4.1v-9b-thinking.{format}.tensors.txt")).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(expected, actual);
    }
}
