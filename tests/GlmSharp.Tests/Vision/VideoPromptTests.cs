using GlmSharp.Tokenizers;
using GlmSharp.Vision;

namespace GlmSharp.Tests.Vision;

/// <summary>
/// A video in a prompt, laid out as transformers' Glm4vProcessor expands <c>&lt;|video|&gt;</c> and positioned as its
/// get_rope_index places video frames.
/// </summary>
public sealed class VideoPromptTests
{
    private static readonly BpeTokenizer Tokenizer = new(BpeTrainer.Train(Enumerable.Repeat(TinyGlm4vModel.Corpus, 3), 320, TinyGlm4vModel.SpecialTokens));

    private static int Id(string special) => Tokenizer.TryGetAddedToken(special, out int id) ? id : throw new InvalidOperationException(special);

    /// <summary>Two temporal patches of 2 × 3 merged tokens, at 0 s and 1 s.</summary>
    private static readonly EncodedVideo Video = new(
        [new EncodedImage(2, 3, new float[6 * 4]), new EncodedImage(2, 3, Enumerable.Repeat(1f, 6 * 4).ToArray())], [0, 1]);

    [Fact]
    public void Video_Expands_As_Glm_Processor_Writes_It()
    {
        var prompt = MultimodalPrompt.FromText("Say " + VideoPrompt.Placeholder + " now", Tokenizer, [], Id(ImagePrompt.ImageToken), "test", [Video]);
        string frame = ImagePrompt.BeginOfImage + string.Concat(Enumerable.Repeat(ImagePrompt.ImageToken, 6)) + ImagePrompt.EndOfImage;
        Assert.Equal("Say <|begin_of_video|>" + frame + "0" + frame + "1<|end_of_video|> now", Tokenizer.Decode([.. prompt.Tokens]));
    }

    [Fact]
    public void Video_Positions_Are_Get_Rope_Index_Frame_By_Frame()
    {
        int image = Id(ImagePrompt.ImageToken);
        var prompt = MultimodalPrompt.FromText("Say " + VideoPrompt.Placeholder + " now", Tokenizer, [], image, "test", [Video]);
        var tokens = prompt.Tokens.ToArray();

        // Closed form: text counts up; each frame run of 2 × 3 starts at s = (largest position so far) + 1 and puts token
        // (r, c) at (s, s + r, s + c); the text after it goes on from s + max(2, 3).
        var expected = new List<(int, int, int)>();
        int next = 0;
        for (int i = 0; i < tokens.Length;)
        {
            if (tokens[i] != image)
            {
                expected.Add((next, next, next));
                next++;
                i++;
                continue;
            }
            for (int r = 0; r < 2; r++)
                for (int c = 0; c < 3; c++, i++) expected.Add((next, next + r, next + c));
            next += 3;
        }
        Assert.Equal(12, tokens.Count(t => t == image));
        Assert.Equal(expected, Enumerable.Range(0, tokens.Length).Select(i => prompt.Positions[i]));
        Assert.Equal(next, prompt.NextPosition);

        // transformers' walk over the token ids, given the video's grid (2 temporal patches of 4 × 6 patches), agrees.
        var index = Glm4vRopeIndex.Compute(tokens, image, Id(VideoPrompt.BeginOfVideo), Id(VideoPrompt.EndOfVideo), [], [new GridThw(2, 4, 6)], mergeSize: 2);
        Assert.Equal(expected, Enumerable.Range(0, tokens.Length).Select(i => index[i]));
    }

    [Fact]
    public void Placeholders_Must_Match_The_Videos()
    {
        var e = Assert.Throws<ImageInputException>(() => MultimodalPrompt.FromText("Say " + VideoPrompt.Placeholder, Tokenizer, [], 1, "test", []));
        Assert.Equal("prompt: it has 1 <|video|> placeholders for 0 videos", e.Message);
    }

    [Fact]
    public void A_Vocabulary_Without_Video_Markers_Is_Refused()
    {
        var plain = new BpeTokenizer(BpeTrainer.Train(Enumerable.Repeat(TinyGlm4vModel.Corpus, 3), 320,
            ["<|endoftext|>", ImagePrompt.BeginOfImage, ImagePrompt.EndOfImage, ImagePrompt.ImageToken]));
        var e = Assert.Throws<ImageInputException>(() => MultimodalPrompt.FromText(VideoPrompt.VideoToken, plain, [], 1, "model.gguf", [Video]));
        Assert.Equal("model.gguf: the vocabulary has no <|begin_of_video|> token to mark the video with", e.Message);
    }
}
