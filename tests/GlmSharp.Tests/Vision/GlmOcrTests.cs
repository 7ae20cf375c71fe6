using GlmSharp.Configs;
using GlmSharp.Formats.Safetensors;
using GlmSharp.Kernels;
using GlmSharp.Models;
using GlmSharp.Models.Architectures;
using GlmSharp.Tests.Support;
using GlmSharp.Vision;
using Xunit.Abstractions;

namespace GlmSharp.Tests.Vision;

/// <summary>
/// GLM-OCR (<c>model_type: "glm_ocr"</c>). No reference runs it here: this llama.cpp's libmtmd has no glm_ocr projector
/// and libllama no glm_ocr architecture. So the checks are its config and checkpoint layout, the property its per-head
/// q/k norms give the tower (blind to the scale of q and k, which GLM-4.1V's tower is not), and its text decoder (every
/// dim rotating, adjacent pairs) against the same weights in llama.cpp's split-half GGUF order.
/// </summary>
public sealed class GlmOcrTests(ITestOutputHelper output)
{
    // text: hidden, heads, kv heads, head dim, MLP, M-RoPE sections over all 8 pairs | tower: hidden, heads, depth, patch, table, block MLP
    private static readonly TinyGlm4vShape Shape = new(64, 4, 2, 16, 96, [2, 3, 3, 0], 32, 2, 2, 4, 6, 80, Ocr: true);

    [Fact]
    public void Glm_Ocr_Config_Reads_Its_Text_Tower_And_Marker_Ids()
    {
        string path = Path.Combine(AppContext.BaseDirectory, "Golden", "glm-ocr.config.json");
        var config = Glm4vConfig.Load(path);
        var text = config.Text;
        Assert.Equal("glm_ocr", text.ModelType);
        Assert.Equal((1536, 16, 16, 8, 128, 128, 59392), (text.HiddenSize, text.NumLayers, text.NumHeads, text.NumKvHeads, text.HeadDim, text.RotaryDims, text.VocabSize));
        Assert.False(text.AttentionBias);
        Assert.Equal([16, 24, 24, 0], text.MropeSections!);
        var v = config.Vision;
        Assert.Equal((true, true, 64, 4096, 4608, 1536), (v.GlmOcrLayout, v.AttentionBias, v.HeadDim, v.BlockMlpWidth, v.MergerWidth, v.OutHiddenSize));
        Assert.Equal((59280, 59281, 59256, 59257), (config.ImageTokenId, config.VideoTokenId, config.ImageStartTokenId, config.ImageEndTokenId));
        Assert.IsType<Glm4v>(ModelRegistry.ByModelType("glm_ocr", path));
    }

    [Fact]
    public void Per_Head_Q_K_Norms_Make_The_Tower_Blind_To_The_Scale_Of_Q_And_K()
    {
        using var dir = new TempDirectory();
        double ocr = ScaledQueryKeyChange(dir, Shape.Vision, "ocr");
        double glm4v = ScaledQueryKeyChange(dir, Shape.Vision with { GlmOcrLayout = false, AttentionBias = false }, "glm4v");
        output.WriteLine($"q and k scaled by 4: GLM-OCR's tower moves {ocr:E2}, GLM-4.1V's {glm4v:E2} of the largest value");
        Assert.True(ocr <= 1e-4, $"GLM-OCR's tower changed by {ocr:E2} of the largest value when q and k were scaled");
        Assert.True(glm4v > 1e-2, $"GLM-4.1V's tower changed by only {glm4v:E2}: the check would not see missing q/k norms");
    }

    /// <summary>How much the tower's tokens move when every block's q and k rows (weights and biases) are multiplied by 4.</summary>
    private static double ScaledQueryKeyChange(TempDirectory dir, Glm4vVisionConfig config, string name)
    {
        var plain = new RandomGlm4vVision(config, seed: 9);
        var scaled = new RandomGlm4vVision(config, seed: 9);
        foreach (var (tensor, (shape, values)) in scaled.Tensors)
            if (tensor.EndsWith(".attn.qkv.weight", StringComparison.Ordinal) || tensor.EndsWith(".attn.qkv.bias", StringComparison.Ordinal))
            {
                long queryKey = 2 * config.HiddenSize * (shape.Length == 2 ? shape[1] : 1);
                for (long i = 0; i < queryKey; i++) values[i] *= 4;
            }
        var input = new ImagePreprocessor(plain.Preprocessor(), ImagePreprocessing.HuggingFace)
            .Preprocess(Glm4vOracleTests.ToRgba(Glm4vOracleTests.Pattern(40, 24)), "pattern");
        float[] Encode(RandomGlm4vVision vision, string file)
        {
            using var tower = Glm4vVisionTower.FromHuggingFace(SafetensorsTensorSource.OpenSingle(vision.WriteSafetensors(dir.File(file))), config, vision.Preprocessor());
            return tower.Encode(input);
        }
        var expected = Encode(plain, $"{name}-plain.safetensors");
        return LogitComparison.WorstRelativeError(Encode(scaled, $"{name}-scaled.safetensors"), expected, expected.Length);
    }

    [Fact]
    public void Folder_Runs_An_Image_Prompt_As_The_Split_Half_Gguf_Of_Its_Decoder_Does()
    {
        using var dir = new TempDirectory();
        var model = TinyGlm4vModel.Write(dir, Shape, seed: 23);
        string folder = model.WriteHuggingFace(dir.File("hf"));
        using var loaded = ModelLoader.Load(folder);
        Assert.Equal(("glm_ocr", 16, false), (loaded.Config.ModelType, loaded.Config.RotaryDims, loaded.Config.AttentionBias));
        using var encoder = ImageEncoder.Open(loaded, mmprojPath: null);
        Assert.True(encoder.Tower.Config.GlmOcrLayout);
        var image = encoder.Encode(Glm4vOracleTests.ToRgba(Glm4vOracleTests.Pattern(48, 32)), "pattern");
        Assert.Equal((4, 6), (image.Rows, image.Cols));
        Assert.All(image.Embeddings, x => Assert.True(float.IsFinite(x)));
        const string prompt = "Read this: " + ImagePrompt.Placeholder + " Text Recognition:";
        var fromFolder = MultimodalPrompt.FromText(prompt, loaded.Tokenizer!, [image], encoder.ImageTokenId, folder).Logits(loaded.Model, LogitsFor.LastToken, KvCacheType.F32);

        // The same decoder written as llama.cpp orders a glm4 GGUF with M-RoPE (q/k rows in split halves), fed the same rows.
        using var gguf = ModelLoader.Load(model.TextGguf);
        var fromGguf = MultimodalPrompt.FromText(prompt, gguf.Tokenizer!, [image], encoder.ImageTokenId, model.TextGguf).Logits(gguf.Model, LogitsFor.LastToken, KvCacheType.F32);
        double error = LogitComparison.WorstRelativeError(fromFolder, fromGguf, model.VocabSize);
        output.WriteLine($"folder vs split-half GGUF, last logits: {error:E2}");
        Assert.True(error <= 1e-5, $"folder and split-half GGUF differ by {error:E2} of the largest");

        var result = GlmCli.Run("generate", "--model", folder, "--image", WritePng(dir, "page.png"), "--prompt", "Read: <__media__> Text Recognition:",
            "--max-tokens", "3", "--temperature", "0", "--output", "ids");
        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Equal(3, result.Stdout.Trim().Split(',').Length);
    }

    private static string WritePng(TempDirectory dir, string name)
    {
        var rgba = Glm4vOracleTests.ToRgba(Glm4vOracleTests.Pattern(40, 24));
        string path = dir.File(name);
        File.WriteAllBytes(path, TestImages.Encode(rgba.Width, rgba.Height, rgba.Pixels, SkiaSharp.SKEncodedImageFormat.Png));
        return path;
    }
}
