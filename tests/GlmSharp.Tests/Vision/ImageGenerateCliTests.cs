using GlmSharp.Models;
using GlmSharp.Tensors;
using GlmSharp.Tests.Support;
using GlmSharp.Vision;
using SkiaSharp;

namespace GlmSharp.Tests.Vision;

/// <summary>
/// `glm generate --image` and `glm chat`'s /image on random GLM-4.1V models: greedy output is libmtmd's greedy chain
/// (its argmax at every step, fed back as mtmd positions it), for a GGUF text + mmproj pair, for several images, and
/// for a Hugging Face folder of the same weights; each bad input is a one-line error.
/// </summary>
[Trait("Oracle", "llama.cpp")]
public sealed class ImageGenerateCliTests : IDisposable
{
    private static readonly TinyGlm4vShape Shape = new(64, 4, 2, 16, 96, [1, 1, 2, 0], 32, 2, 2, 4, 6, 80);
    private const int MaxImageTokens = 48;
    private const int NewTokens = 5;

    private readonly TempDirectory _dir = new();
    private readonly TinyGlm4vModel _model;

    public ImageGenerateCliTests() => _model = TinyGlm4vModel.Write(_dir, Shape, seed: 11);

    public void Dispose() => _dir.Dispose();

    private string Png(RgbImage image, string name)
    {
        var rgba = Glm4vOracleTests.ToRgba(image);
        string path = _dir.File(name);
        File.WriteAllBytes(path, TestImages.Encode(rgba.Width, rgba.Height, rgba.Pixels, SKEncodedImageFormat.Png));
        return path;
    }

    private static int[] Ids(GlmCli.Result result)
    {
        Assert.True(result.ExitCode == 0, result.Stderr);
        return [.. result.Stdout.Trim().Split(',', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse)];
    }

    /// <summary>libmtmd's chain up to (not including) the first token that ends generation for <paramref name="modelPath"/>.</summary>
    private static int[] UntilStop(int[] chain, string modelPath)
    {
        using var loaded = ModelLoader.Load(modelPath);
        int stop = Array.FindIndex(chain, loaded.StopTokenIds.Contains);
        return stop < 0 ? chain : chain[..stop];
    }

    [Fact]
    public void Gguf_And_Mmproj_Greedy_Output_Is_LibMtmd_Greedy_Chain()
    {
        var image = Glm4vOracleTests.Pattern(45, 30);
        const string prompt = "Look: <__media__> what is it?";
        var expected = LibMtmd.Greedy(_model.TextGguf, _model.Mmproj, [image], prompt, _model.VocabSize, LlamaCppImageSizing.DefaultMaxTokens, NewTokens);
        var result = GlmCli.Run("generate", "--model", _model.TextGguf, "--mmproj", _model.Mmproj, "--image", Png(image, "a.png"), "--prompt", prompt,
            "--max-tokens", $"{NewTokens}", "--temperature", "0", "--output", "ids", "--cache-type", "f32");
        Assert.Equal(UntilStop(expected, _model.TextGguf), Ids(result));
    }

    [Fact]
    public void Two_Images_Go_To_Their_Markers_In_Order()
    {
        RgbImage wide = Glm4vOracleTests.Pattern(61, 23), tall = Glm4vOracleTests.Pattern(20, 52);
        const string prompt = "First <__media__> then <__media__> compared:";
        var (expected, logits) = LibMtmd.GreedyWithPromptLogits(_model.TextGguf, _model.Mmproj, [wide, tall], prompt, _model.VocabSize, LlamaCppImageSizing.DefaultMaxTokens, NewTokens);
        var (_, swappedLogits) = LibMtmd.GreedyWithPromptLogits(_model.TextGguf, _model.Mmproj, [tall, wide], prompt, _model.VocabSize, LlamaCppImageSizing.DefaultMaxTokens, 0);

        // The engine's rows for the two images match libmtmd's logits in this order, and clearly not in the other.
        using var loaded = ModelLoader.Load(_model.TextGguf);
        using var encoder = ImageEncoder.Open(loaded, _model.Mmproj);
        var rows = MultimodalPrompt.FromText(prompt.Replace(ImagePrompt.Marker, ImagePrompt.Placeholder), loaded.Tokenizer!,
            [encoder.Encode(Glm4vOracleTests.ToRgba(wide), "wide"), encoder.Encode(Glm4vOracleTests.ToRgba(tall), "tall")], encoder.ImageTokenId, _model.TextGguf);
        var ours = rows.Logits(loaded.Model, LogitsFor.LastToken, GlmSharp.Kernels.KvCacheType.F32);
        Assert.True(LogitComparison.WorstRelativeError(ours, logits, _model.VocabSize) <= 2e-3);
        Assert.True(LogitComparison.WorstRelativeError(ours, swappedLogits, _model.VocabSize) > 2e-2);

        var result = GlmCli.Run("generate", "--model", _model.TextGguf, "--mmproj", _model.Mmproj, "--image", Png(wide, "wide.png"), "--image", Png(tall, "tall.png"),
            "--prompt", prompt, "--max-tokens", $"{NewTokens}", "--temperature", "0", "--output", "ids", "--cache-type", "f32");
        Assert.Equal(UntilStop(expected, _model.TextGguf), Ids(result));
    }

    [Fact]
    public void Hugging_Face_Folder_Needs_No_Mmproj_And_Gives_LibMtmd_Greedy_Chain()
    {
        string folder = _model.WriteHuggingFace(_dir.File("hf"));
        // Multiples of patch × merge within both budgets: transformers' and mtmd's pre-processing leave it as it is.
        var image = Glm4vOracleTests.Pattern(6 * 8, 4 * 8);
        const string prompt = "Look: <__media__> what is it?";
        var expected = LibMtmd.Greedy(_model.TextGguf, _model.Mmproj, [image], prompt, _model.VocabSize, MaxImageTokens, NewTokens);
        var result = GlmCli.Run("generate", "--model", folder, "--image", Png(image, "a.png"), "--prompt", prompt,
            "--max-tokens", $"{NewTokens}", "--temperature", "0", "--output", "ids", "--cache-type", "f32");
        Assert.Equal(UntilStop(expected, folder), Ids(result));
    }

    [Fact]
    public void Chat_Attaches_An_Image_To_The_Next_Message()
    {
        var image = Glm4vOracleTests.Pattern(45, 30);
        string path = Png(image, "a.png");
        // The tiny vocabulary has no chat template: GLM-4-0414's layout, with the placeholder where the image part was.
        var expected = LibMtmd.Greedy(_model.TextGguf, _model.Mmproj, [image], "[gMASK]<sop><|user|>\n<__media__>What is it?<|assistant|>",
            _model.VocabSize, LlamaCppImageSizing.DefaultMaxTokens, NewTokens);
        using var loaded = ModelLoader.Load(_model.TextGguf);
        string reply = loaded.Tokenizer!.Decode(UntilStop(expected, _model.TextGguf), includeSpecial: false);

        var result = GlmCli.RunWithInput($"/image {path}\nWhat is it?\n/exit\n", "chat", "--model", _model.TextGguf, "--mmproj", _model.Mmproj,
            "--max-tokens", $"{NewTokens}", "--temperature", "0", "--cache-type", "f32");
        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Contains($"{path}: attached to your next message", result.Stderr);
        // One "> " for the /image line, one for the question, one for /exit.
        Assert.Equal($"> > {reply}\n> ", result.Stdout.Replace("\r\n", "\n"));
    }

    [Fact]
    public void Chat_Reports_A_Missing_Image_And_Goes_On()
    {
        string missing = _dir.File("none.png");
        var result = GlmCli.RunWithInput($"/image {missing}\n/exit\n", "chat", "--model", _model.TextGguf, "--mmproj", _model.Mmproj);
        Assert.Equal(0, result.ExitCode);
        Assert.Contains($"error: {missing}: image file not found", result.Stderr);
    }

    [Fact]
    public void Chat_Without_A_Vision_Tower_Says_So()
    {
        var result = GlmCli.RunWithInput($"/image {Png(Glm4vOracleTests.Pattern(16, 16), "a.png")}\n/exit\n", "chat", "--model", _model.TextGguf);
        Assert.Equal(0, result.ExitCode);
        Assert.Contains($"error: {_model.TextGguf}: the model has no vision tower", result.Stderr);
    }

    [Fact]
    public void Missing_Image_Is_A_One_Line_Error() =>
        AssertFails($"--image {_dir.File("none.png")}: no such file", "--model", _model.TextGguf, "--mmproj", _model.Mmproj, "--image", _dir.File("none.png"), "--prompt", "a <__media__>");

    [Fact]
    public void Corrupt_Image_Is_A_One_Line_Error_Naming_The_File()
    {
        string bad = _dir.File("bad.png");
        File.WriteAllBytes(bad, [0x89, (byte)'P', (byte)'N', (byte)'G', 1, 2, 3]);
        AssertFails($"{bad}: not an image in a supported format", "--model", _model.TextGguf, "--mmproj", _model.Mmproj, "--image", bad, "--prompt", "a <__media__>");
    }

    [Fact]
    public void Model_Without_A_Vision_Tower_Is_Refused() =>
        AssertFails($"{_model.TextGguf}: the model has no vision tower", "--model", _model.TextGguf, "--image", Png(Glm4vOracleTests.Pattern(16, 16), "a.png"), "--prompt", "a <__media__>");

    [Fact]
    public void Text_Model_Without_Mrope_Is_Refused()
    {
        var spec = new TinyGlmSpec("glm4", _model.VocabSize, 64, 1, 4, 2, 16, 96, 0.5, Bias: false, Tied: true);
        var checkpoint = new RandomGlmCheckpoint(spec, seed: 2);
        string plain = _dir.File("plain.gguf");
        using (var source = new InMemoryTensorSource(checkpoint.Tensors))
            GgufExporter.Write(ModelRegistry.ByModelType("glm4", "test"), checkpoint.HfConfig(), source, _model.Vocabulary, plain, GgmlType.F32, "plain glm4");
        AssertFails($"{plain}: the text model takes 1-D positions", "--model", plain, "--mmproj", _model.Mmproj, "--image", Png(Glm4vOracleTests.Pattern(16, 16), "a.png"), "--prompt", "a <__media__>");
    }

    [Fact]
    public void Too_Many_Image_Tokens_For_The_Context_Are_Refused() =>
        AssertFails("--image: the images take 24 tokens, the context holds 16", "--model", _model.TextGguf, "--mmproj", _model.Mmproj,
            "--image", Png(Glm4vOracleTests.Pattern(48, 32), "a.png"), "--prompt", "a <__media__>", "--context", "16");

    [Fact]
    public void Markers_Must_Match_The_Images() =>
        AssertFails("--prompt: it has 1 <__media__> markers for 2 images", "--model", _model.TextGguf, "--mmproj", _model.Mmproj,
            "--image", Png(Glm4vOracleTests.Pattern(16, 16), "a.png"), "--image", Png(Glm4vOracleTests.Pattern(16, 24), "b.png"), "--prompt", "a <__media__>");

    [Fact]
    public void Mmproj_Without_Image_Is_Refused() =>
        AssertFails("--mmproj: needs --image", "--model", _model.TextGguf, "--mmproj", _model.Mmproj, "--prompt", "a");

    /// <summary>`glm generate` with <paramref name="options"/> exits with 1 and one error line containing <paramref name="message"/>.</summary>
    internal static void AssertFails(string message, params string[] options)
    {
        var result = GlmCli.Run(["generate", .. options]);
        Assert.Equal(1, result.ExitCode);
        var lines = result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, result.Stderr);
        Assert.StartsWith("error: ", lines[0]);
        Assert.True(lines[0].Contains(message, StringComparison.Ordinal), lines[0]);
    }
}
