using GlmSharp.Imaging;
using GlmSharp.Inference;
using GlmSharp.Kernels;
using GlmSharp.Models;
using GlmSharp.Tests.Support;
using GlmSharp.Vision;

namespace GlmSharp.Tests.Vision;

/// <summary>
/// A video through a random GLM-4.1V folder: an animated GIF made in the test, sampled, cut into temporal patches of two
/// frames and encoded patch by patch. No reference runs GLM video here (libmtmd's glm4v projector is image-only and its
/// video helper needs ffmpeg), so the checks are the ones that follow from transformers' definitions: a patch of two
/// equal frames is the image path's output for that frame (an image is its frame twice), a patch of two different
/// frames is not either frame's, and the prompt is the images-with-timestamps prompt get_rope_index lays out the same way.
/// </summary>
public sealed class VideoTowerTests : IDisposable
{
    private static readonly TinyGlm4vShape Shape = new(64, 4, 2, 16, 96, [1, 1, 2, 0], 32, 2, 2, 4, 6, 80);
    private const int Width = 24, Height = 16; // 3 × 2 merged tokens at patch 4

    private readonly TempDirectory _dir = new();
    private readonly string _folder;
    private readonly byte[][] _frames;
    private readonly string _gif;

    public VideoTowerTests()
    {
        _folder = TinyGlm4vModel.Write(_dir, Shape, seed: 17).WriteHuggingFace(_dir.File("hf"));
        // Frames A, A, B, C shown 500 ms each: 2 fps for 2 s, so all four are sampled, in patches (A, A) and (B, C).
        var a = VideoDecoderTests.Indices(Width, Height, 0);
        _frames = [a, a, VideoDecoderTests.Indices(Width, Height, 1), VideoDecoderTests.Indices(Width, Height, 2)];
        _gif = _dir.File("clip.gif");
        File.WriteAllBytes(_gif, TestGif.Write(Width, Height, _frames, delayCentiseconds: 50));
    }

    public void Dispose() => _dir.Dispose();

    private RgbaImage Frame(int i) => VideoDecoderTests.Expected(Width, Height, _frames[i]);

    [Fact]
    public void Equal_Frames_Give_The_Image_Path_And_Different_Frames_Give_Neither()
    {
        using var loaded = ModelLoader.Load(_folder);
        using var encoder = ImageEncoder.Open(loaded, mmprojPath: null);
        var video = encoder.EncodeVideo(VideoDecoder.DecodeFile(_gif), contextLength: 4096);

        Assert.Equal(2, video.TemporalPatches.Count);
        Assert.All(video.TemporalPatches, p => Assert.Equal((2, 3), (p.Rows, p.Cols)));
        Assert.Equal([0, 1], video.Timestamps);
        var stillA = encoder.Encode(Frame(0), "A");
        double same = LogitComparison.WorstRelativeError(video.TemporalPatches[0].Embeddings, stillA.Embeddings, stillA.Embeddings.Length);
        Assert.True(same <= 1e-6, $"patch (A, A) differs from image A by {same:E2} of the largest");
        foreach (int frame in new[] { 2, 3 })
        {
            var still = encoder.Encode(Frame(frame), $"frame {frame}");
            double apart = LogitComparison.WorstRelativeError(video.TemporalPatches[1].Embeddings, still.Embeddings, still.Embeddings.Length);
            Assert.True(apart > 1e-2, $"patch (B, C) is within {apart:E2} of frame {frame} alone");
        }
    }

    [Fact]
    public void Video_Prompt_Gives_The_Logits_Of_Its_Frames_Written_As_Images_With_Timestamps()
    {
        using var loaded = ModelLoader.Load(_folder);
        using var encoder = ImageEncoder.Open(loaded, mmprojPath: null);
        var video = encoder.EncodeVideo(VideoDecoder.DecodeFile(_gif), contextLength: 4096);
        var tokenizer = loaded.Tokenizer!;
        var asVideo = MultimodalPrompt.FromText($"Watch {VideoPrompt.Placeholder} what happens?", tokenizer, [], encoder.ImageTokenId, _folder, [video]);
        var asImages = MultimodalPrompt.FromText($"Watch {VideoPrompt.BeginOfVideo}{ImagePrompt.Placeholder}0{ImagePrompt.Placeholder}1{VideoPrompt.EndOfVideo} what happens?",
            tokenizer, video.TemporalPatches, encoder.ImageTokenId, _folder);

        Assert.Equal(asImages.Tokens, asVideo.Tokens);
        var logits = asVideo.Logits(loaded.Model, LogitsFor.LastToken, KvCacheType.F32);
        Assert.Equal(asImages.Logits(loaded.Model, LogitsFor.LastToken, KvCacheType.F32), logits);
        // Without the video's rows the answer changes: the patches reach the logits.
        var blank = new EncodedVideo([.. video.TemporalPatches.Select(p => new EncodedImage(p.Rows, p.Cols, new float[p.Embeddings.Length]))], video.Timestamps);
        var blankLogits = MultimodalPrompt.FromText($"Watch {VideoPrompt.Placeholder} what happens?", tokenizer, [], encoder.ImageTokenId, _folder, [blank])
            .Logits(loaded.Model, LogitsFor.LastToken, KvCacheType.F32);
        Assert.True(LogitComparison.WorstRelativeError(logits, blankLogits, loaded.Config.VocabSize) > 1e-3);
    }

    [Fact]
    public async Task Glm_Generate_Video_Gives_The_Generators_Greedy_Tokens()
    {
        const string prompt = "Watch <__video__> what happens?";
        var result = GlmCli.Run("generate", "--model", _folder, "--video", _gif, "--prompt", prompt, "--max-tokens", "4", "--temperature", "0",
            "--output", "ids", "--cache-type", "f32");
        Assert.True(result.ExitCode == 0, result.Stderr);

        using var loaded = ModelLoader.Load(_folder);
        using var encoder = ImageEncoder.Open(loaded, mmprojPath: null);
        var rows = MultimodalPrompt.FromText(prompt.Replace(VideoPrompt.Marker, VideoPrompt.Placeholder), loaded.Tokenizer!, [], encoder.ImageTokenId, _folder,
            [encoder.EncodeVideo(VideoDecoder.DecodeFile(_gif), 4096)]);
        using var generator = new Generator(loaded, cacheType: KvCacheType.F32);
        var expected = new List<int>();
        await foreach (var chunk in generator.GenerateAsync(rows, new GenerationOptions { MaxTokens = 4, Sampling = new SamplingOptions { Temperature = 0 } }))
            if (chunk.TokenId is int id) expected.Add(id);
        Assert.Equal(string.Join(",", expected), result.Stdout.Trim());
    }

    [Fact]
    public void Video_Markers_Must_Match_The_Videos() =>
        AssertFails("--prompt: it has 0 <__video__> markers for 1 videos (--video)", "--model", _folder, "--video", _gif, "--prompt", "no marker");

    [Fact]
    public void Video_For_More_Than_The_Context_Is_Refused() =>
        AssertFails($"{_gif}: the video takes 12 tokens (2 temporal patches), the context holds 8", "--model", _folder, "--video", _gif, "--prompt", "a <__video__>", "--context", "8");

    [Fact]
    public void Still_Image_As_Video_Is_Refused()
    {
        string still = _dir.File("still.gif");
        File.WriteAllBytes(still, TestGif.Write(8, 8, [VideoDecoderTests.Indices(8, 8, 0)], delayCentiseconds: 10));
        AssertFails($"{still}: a still image (Gif), not a video; give it with --image", "--model", _folder, "--video", still, "--prompt", "a <__video__>");
    }

    private static void AssertFails(string message, params string[] options) => ImageGenerateCliTests.AssertFails(message, options);
}
