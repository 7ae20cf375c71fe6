using GlmSharp.Models;
using GlmSharp.Tensors;
using GlmSharp.Tests.Support;
using GlmSharp.Tokenizers;
using GlmSharp.Vision;

namespace GlmSharp.Tests.Vision;

/// <summary>The image prompt's layout and the prompts and models it refuses.</summary>
public sealed class ImagePromptTests
{
    private static readonly BpeTokenizer Tokenizer =
        new(BpeTrainer.Train(Enumerable.Repeat(TinyGlm4vModel.Corpus, 3), vocabSize: 320, TinyGlm4vModel.SpecialTokens));

    [Fact]
    public void Image_Tokens_Take_Grid_Positions_And_The_Text_After_Continues_From_The_Larger_Side()
    {
        var prompt = ImagePrompt.Create("a <__media__> b", Tokenizer, rows: 2, cols: 3, "model.gguf");
        Assert.Equal(Tokenizer.AddedTokenId(ImagePrompt.BeginOfImage), prompt.Before[^1]);
        Assert.Equal(Tokenizer.AddedTokenId(ImagePrompt.EndOfImage), prompt.After[0]);
        int p = prompt.Before.Length;
        // (t, h, w) of image token (r, c) is (p, p + r, p + c); the first token after it sits at p + max(2, 3).
        Assert.Equal((p, p + 1, p + 2), prompt.Positions[p + 5]);
        Assert.Equal((p + 3, p + 3, p + 3), prompt.Positions[p + 6]);
    }

    [Fact]
    public void Prompt_With_Two_Markers_Is_Refused()
    {
        var e = Assert.Throws<ImageInputException>(() => ImagePrompt.Create("<__media__> and <__media__>", Tokenizer, 1, 1, "model.gguf"));
        Assert.Equal("prompt: it has more than one <__media__>; one image per prompt is supported", e.Message);
    }

    [Fact]
    public void Vocabulary_Without_The_Image_Markers_Is_Refused_By_Name()
    {
        var plain = new BpeTokenizer(BpeTrainer.Train([TinyGlm4vModel.Corpus], vocabSize: 300));
        var e = Assert.Throws<ImageInputException>(() => ImagePrompt.Create("<__media__>", plain, 1, 1, "model.gguf"));
        Assert.Equal("model.gguf: the vocabulary has no <|begin_of_image|> token to mark the image with", e.Message);
    }

    [Fact]
    public void Text_Model_Without_Mrope_Sections_Is_Refused()
    {
        var spec = new TinyGlmSpec("glm4", Tokenizer.VocabSize, 64, 1, 4, 2, 16, 96, 0.5, Bias: false, Tied: true);
        using var dir = new TempDirectory();
        using var loaded = ModelLoader.Load(new RandomGlmCheckpoint(spec, seed: 2).WriteGguf(dir.File("plain.gguf"), GgmlType.F32));
        var prompt = ImagePrompt.Create("<__media__>", Tokenizer, 1, 1, loaded.Path);
        var e = Assert.Throws<ImageInputException>(() => prompt.Logits(loaded.Model, new float[64]));
        Assert.Contains("takes 1-D positions; an image prompt needs a glm4 model with rope.dimension_sections (M-RoPE)", e.Message);
    }
}
