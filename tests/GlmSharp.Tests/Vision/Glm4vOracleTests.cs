using GlmSharp.Inference;
using GlmSharp.Kernels;
using GlmSharp.Models;
using GlmSharp.Tensors;
using GlmSharp.Tests.Support;
using GlmSharp.Vision;
using Xunit.Abstractions;

namespace GlmSharp.Tests.Vision;

/// <summary>
/// GLM-4.1V and GLM-4.5V end to end against llama.cpp's libmtmd: random-weight text and mmproj pairs written by our
/// own writers (GLM-4.5V's text model a glm4moe GGUF with M-RoPE sections and routed experts),
/// one prompt with an image, mtmd's pre-processing on our side. The image's tokens (their embeddings from the vision
/// tower) and the last position's logits (after the M-RoPE text model read the prompt around them) must agree within
/// 2e-3 of the largest value, and pick the same next token; fed libmtmd's own image rows, the text model's logits must
/// agree within 1e-5 (measured 3e-7 to 8e-7, MoE shapes included), so what remains is the tower's difference (llama.cpp
/// resamples the position table its own way) carried through the text model. Images: one already a multiple of patch × 2 (no resize),
/// one non-square that is resized, one whose token count is above the cap (scaled down to fit).
/// </summary>
[Trait("Oracle", "llama.cpp")]
public sealed class Glm4vOracleTests(ITestOutputHelper output)
{
    private const double Tolerance = 2e-3;
    private const int MaxImageTokens = 48;
    private const string Prompt = "Look at the picture: <__media__> What is in it?";

    public static TheoryData<TinyGlm4vShape> Shapes() =>
    [
        // text: hidden, heads, kv heads, head dim, MLP, M-RoPE sections (pairs) | vision: hidden, heads, depth, patch, table side, merger MLP
        new TinyGlm4vShape(64, 4, 2, 16, 96, [1, 1, 2, 0], 32, 2, 2, 4, 6, 80),
        new TinyGlm4vShape(96, 4, 4, 32, 128, [2, 3, 3, 0], 48, 4, 3, 6, 5, 112),
        new TinyGlm4vShape(80, 4, 1, 32, 96, [4, 2, 2, 0], 64, 2, 2, 5, 4, 64),
        // GLM-4.5V: the same tower before glm4_moe layers (dense lead layer, then experts: routed count, used per token, width)
        new TinyGlm4vShape(64, 4, 2, 16, 96, [2, 1, 1, 0], 32, 2, 2, 4, 6, 80, Experts: 8, ExpertsPerToken: 2, ExpertWidth: 32),
        new TinyGlm4vShape(80, 4, 1, 32, 96, [2, 4, 2, 0], 64, 2, 2, 5, 4, 64, Experts: 6, ExpertsPerToken: 3, ExpertWidth: 40),
    ];

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Image_Embeddings_And_Last_Logits_Match_LibMtmd(TinyGlm4vShape shape)
    {
        using var dir = new TempDirectory();
        var model = TinyGlm4vModel.Write(dir, shape, seed: shape.Hidden + shape.VisionHidden);
        int factor = shape.PatchSize * 2;
        using var loaded = ModelLoader.Load(model.TextGguf);
        using var tower = Glm4vVisionTower.FromMmproj(model.Mmproj);
        var preprocessor = new ImagePreprocessor(tower.Preprocessor, ImagePreprocessing.LlamaCpp, llamaCppMaxTokens: MaxImageTokens);

        foreach (var (name, width, height) in new[] { ("aligned", 6 * factor, 4 * factor), ("non-square", 5 * factor - 3, 7 * factor + 5), ("over the cap", 15 * factor, 11 * factor + factor / 2) })
        {
            var image = Pattern(width, height);
            var expected = LibMtmd.Run(model.TextGguf, model.Mmproj, image, Prompt, model.VocabSize, MaxImageTokens);

            var input = preprocessor.Preprocess(ToRgba(image), name);
            int rows = input.GridH / input.MergeSize, cols = input.GridW / input.MergeSize;
            Assert.Equal((expected.ImageRows, expected.ImageCols), (rows, cols));
            var prompt = ImagePrompt.Create(Prompt, loaded.Tokenizer!, rows, cols, model.TextGguf);
            Assert.Equal(expected.TextBefore, prompt.Before);
            Assert.Equal(expected.TextAfter, prompt.After);

            var embeddings = tower.Encode(input);
            var logits = prompt.Logits(loaded.Model, embeddings, LogitsFor.LastToken, KvCacheType.F32);
            Assert.Equal(expected.ImageEmbeddings.Length, embeddings.Length);
            // The whole [tokens, width] matrix as one row: the largest difference relative to the largest value.
            double embeddingError = LogitComparison.WorstRelativeError(embeddings, expected.ImageEmbeddings, embeddings.Length);
            double logitError = LogitComparison.WorstRelativeError(logits, expected.LastLogits, model.VocabSize);
            // The text model alone, fed libmtmd's own image rows: what is left is the tower's difference carried on.
            double textError = LogitComparison.WorstRelativeError(
                prompt.Logits(loaded.Model, expected.ImageEmbeddings, LogitsFor.LastToken, KvCacheType.F32), expected.LastLogits, model.VocabSize);
            output.WriteLine($"{shape} {name} {width}x{height} → {cols}x{rows} tokens: embeddings {embeddingError:E2}, last logits {logitError:E2} (from libmtmd's rows {textError:E2})");
            Assert.True(textError <= 1e-5, $"{name}: from libmtmd's image rows, the last logits differ by {textError:E2} of the largest");
            Assert.True(embeddingError <= Tolerance, $"{name}: image embeddings differ by {embeddingError:E2} of the largest");
            Assert.True(logitError <= Tolerance, $"{name}: last logits differ by {logitError:E2} of the largest");
            Assert.Equal(Sampler.ArgMax(expected.LastLogits), Sampler.ArgMax(logits));
        }
    }

    /// <summary>
    /// Released mmproj files hold their matrices in F16: llama.cpp rounds the activations of those products (and its
    /// im2col of the pixels under the F16 patch kernels) to F16, GlmSharp rounds the matrix products' activations the
    /// same way but convolves in F32; the image tokens and logits must still agree within the same bound.
    /// </summary>
    [Fact]
    public void F16_Mmproj_Matches_LibMtmd()
    {
        var shape = (TinyGlm4vShape)((IEnumerable<object[]>)Shapes()).First()[0];
        using var dir = new TempDirectory();
        var model = TinyGlm4vModel.Write(dir, shape, seed: 5);
        string mmproj = model.Vision.WriteMmproj(dir.File("mmproj-f16.gguf"), GgmlType.F16);
        using var loaded = ModelLoader.Load(model.TextGguf);
        using var tower = Glm4vVisionTower.FromMmproj(mmproj);
        var image = Pattern(37, 61);
        var expected = LibMtmd.Run(model.TextGguf, mmproj, image, Prompt, model.VocabSize, MaxImageTokens);

        var input = new ImagePreprocessor(tower.Preprocessor, ImagePreprocessing.LlamaCpp, llamaCppMaxTokens: MaxImageTokens).Preprocess(ToRgba(image), "pattern");
        var embeddings = tower.Encode(input);
        var prompt = ImagePrompt.Create(Prompt, loaded.Tokenizer!, input.GridH / input.MergeSize, input.GridW / input.MergeSize, model.TextGguf);
        var logits = prompt.Logits(loaded.Model, embeddings, LogitsFor.LastToken, KvCacheType.F32);
        double embeddingError = LogitComparison.WorstRelativeError(embeddings, expected.ImageEmbeddings, expected.ImageEmbeddings.Length);
        double logitError = LogitComparison.WorstRelativeError(logits, expected.LastLogits, model.VocabSize);
        output.WriteLine($"{shape} F16 mmproj: embeddings {embeddingError:E2}, last logits {logitError:E2}");
        Assert.True(embeddingError <= Tolerance && logitError <= Tolerance, $"embeddings {embeddingError:E2}, last logits {logitError:E2} > {Tolerance}");
        Assert.Equal(Sampler.ArgMax(expected.LastLogits), Sampler.ArgMax(logits));
    }

    /// <summary>A picture with structure in both directions and every channel, so that patch order and position matter.</summary>
    internal static RgbImage Pattern(int width, int height)
    {
        var random = new Random(width * 31 + height);
        var pixels = new byte[width * height * 3];
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
                for (int c = 0; c < 3; c++)
                    pixels[(y * width + x) * 3 + c] = (byte)((x * (3 + c) + y * (5 - c) * 2 + random.Next(40)) % 256);
        return new RgbImage(width, height, pixels);
    }

    internal static RgbaImage ToRgba(RgbImage image)
    {
        var rgba = new byte[image.Width * image.Height * 4];
        for (int p = 0; p < image.Width * image.Height; p++)
        {
            Array.Copy(image.Pixels, p * 3, rgba, p * 4, 3);
            rgba[p * 4 + 3] = 255;
        }
        return new RgbaImage(image.Width, image.Height, rgba);
    }
}
