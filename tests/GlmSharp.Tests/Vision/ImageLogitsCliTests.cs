using System.Runtime.InteropServices;
using GlmSharp.Kernels;
using GlmSharp.Models;
using GlmSharp.Tests.Support;
using GlmSharp.Vision;
using SkiaSharp;

namespace GlmSharp.Tests.Vision;

/// <summary>`glm logits --image`: the files it writes, and a one-line error for each way its inputs can be wrong.</summary>
public sealed class ImageLogitsCliTests : IDisposable
{
    private static readonly TinyGlm4vShape Shape = new(64, 4, 2, 16, 96, [1, 1, 2, 0], 32, 2, 2, 4, 6, 80);
    private const string Prompt = "Look: <__media__> what is it?";

    private readonly TempDirectory _dir = new();
    private readonly TinyGlm4vModel _model;
    private readonly string _image;

    public ImageLogitsCliTests()
    {
        _model = TinyGlm4vModel.Write(_dir, Shape, seed: 3);
        var picture = Glm4vOracleTests.ToRgba(Glm4vOracleTests.Pattern(45, 30));
        _image = _dir.File("picture.png");
        File.WriteAllBytes(_image, TestImages.Encode(picture.Width, picture.Height, picture.Pixels, SKEncodedImageFormat.Png));
    }

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData("llama.cpp", ImagePreprocessing.LlamaCpp)]
    [InlineData("hf", ImagePreprocessing.HuggingFace)]
    public void Writes_The_Last_Logits_And_The_Image_Embeddings_The_Engine_Computes(string option, ImagePreprocessing preprocessing)
    {
        string logitsFile = _dir.File("logits.bin"), embeddingsFile = _dir.File("embeddings.bin");
        var result = GlmCli.Run("logits", "--model", _model.TextGguf, "--mmproj", _model.Mmproj, "--image", _image, "--prompt", Prompt,
            "--preprocess", option, "--last", "--out", logitsFile, "--embeddings-out", embeddingsFile, "--cache-type", "f32");
        Assert.True(result.ExitCode == 0, result.Stderr);

        using var loaded = ModelLoader.Load(_model.TextGguf);
        using var tower = Glm4vVisionTower.FromMmproj(_model.Mmproj);
        var input = new ImagePreprocessor(tower.Preprocessor, preprocessing).Preprocess(Imaging.ImageDecoder.DecodeFile(_image), _image);
        var embeddings = tower.Encode(input);
        var prompt = ImagePrompt.Create(Prompt, loaded.Tokenizer!, input.GridH / 2, input.GridW / 2, _model.TextGguf);
        var logits = prompt.Logits(loaded.Model, embeddings, LogitsFor.LastToken, KvCacheType.F32);

        Assert.Equal(embeddings, MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(embeddingsFile)).ToArray());
        Assert.Equal(logits, MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(logitsFile)).ToArray());
        Assert.Equal(_model.VocabSize, logits.Length);
    }

    [Fact]
    public void Missing_Image_Is_A_One_Line_Error() =>
        AssertFails($"--image {_dir.File("none.png")}: no such file", "--image", _dir.File("none.png"));

    [Fact]
    public void Corrupt_Image_Is_A_One_Line_Error_Naming_The_File()
    {
        string bad = _dir.File("bad.png");
        File.WriteAllBytes(bad, [0x89, (byte)'P', (byte)'N', (byte)'G', 1, 2, 3]);
        AssertFails($"{bad}: not an image in a supported format", "--image", bad);
    }

    [Fact]
    public void Missing_Mmproj_Is_A_One_Line_Error() =>
        AssertFails($"--mmproj {_dir.File("none.gguf")}: no such file", "--mmproj", _dir.File("none.gguf"));

    [Fact]
    public void Corrupt_Mmproj_Is_A_One_Line_Error_Naming_The_File()
    {
        string bad = _dir.File("bad-mmproj.gguf");
        File.WriteAllText(bad, "this is not a GGUF file at all");
        AssertFails($"{bad}: not a GGUF file", "--mmproj", bad);
    }

    [Fact]
    public void Prompt_Without_The_Media_Marker_Is_Refused() =>
        AssertFails("prompt: it has no <__media__> marking where the image goes", "--prompt", "no image marker here");

    [Fact]
    public void Mmproj_Whose_Tokens_Are_Not_The_Text_Width_Is_Refused()
    {
        var other = new RandomGlm4vVision(Shape.Vision with { OutHiddenSize = 48 }, seed: 9).WriteMmproj(_dir.File("narrow.gguf"));
        AssertFails($"{other}: the vision tower's tokens are 48 wide, the text model {_model.TextGguf} takes 64", "--mmproj", other);
    }

    [Fact]
    public void Image_Without_Mmproj_Is_Refused()
    {
        var result = GlmCli.Run("logits", "--model", _model.TextGguf, "--image", _image, "--prompt", Prompt, "--last", "--out", _dir.File("x.bin"));
        Assert.Equal(1, result.ExitCode);
        Assert.Equal("error: --image: needs --mmproj (the vision tower) and --prompt", result.Stderr.Trim());
    }

    /// <summary>Runs the image command with one option replaced and expects exit code 1 and a single error line containing <paramref name="message"/>.</summary>
    private void AssertFails(string message, string option, string value)
    {
        var options = new Dictionary<string, string>
        {
            ["--model"] = _model.TextGguf, ["--mmproj"] = _model.Mmproj, ["--image"] = _image, ["--prompt"] = Prompt, ["--out"] = _dir.File("x.bin"),
        };
        options[option] = value;
        var result = GlmCli.Run(["logits", "--last", .. options.SelectMany(kv => new[] { kv.Key, kv.Value })]);
        Assert.Equal(1, result.ExitCode);
        var lines = result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.StartsWith("error: ", lines[0]);
        Assert.Contains(message, lines[0]);
    }
}
