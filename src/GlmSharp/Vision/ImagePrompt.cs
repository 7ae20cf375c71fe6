using GlmSharp.Kernels;
using GlmSharp.Models;
using GlmSharp.Tokenizers;

namespace GlmSharp.Vision;

/// <summary>
/// A text prompt with one image in it, laid out as llama.cpp mtmd lays out a glm4v prompt: the text is used as given
/// and <see cref="Marker"/> marks where the image goes; the image's tokens sit between <see cref="BeginOfImage"/> and
/// <see cref="EndOfImage"/>, row-major over the merged grid. Positions are M-RoPE's (<see cref="MropeLayout"/>): text
/// counts up on all three components, image token (r, c) is at (p, p + r, p + c), and the text after it continues
/// from p + max(rows, cols).
/// </summary>
public sealed class ImagePrompt
{
    /// <summary>mtmd's default media marker.</summary>
    public const string Marker = "<__media__>";
    public const string BeginOfImage = "<|begin_of_image|>";
    public const string EndOfImage = "<|end_of_image|>";

    /// <summary>GLM's image token: the processor expands each into one copy per merged image token.</summary>
    public const string ImageToken = "<|image|>";

    /// <summary>What GLM-4.1V's chat template writes where an image goes.</summary>
    public const string Placeholder = BeginOfImage + ImageToken + EndOfImage;

    /// <summary>Tokens before the image (ending with <see cref="BeginOfImage"/>) and after it (starting with <see cref="EndOfImage"/>).</summary>
    public int[] Before { get; }
    public int[] After { get; }
    public int ImageRows { get; }
    public int ImageCols { get; }
    public MropePositionIds Positions { get; }

    public int ImageTokens => ImageRows * ImageCols;
    public int Length => Before.Length + ImageTokens + After.Length;

    private ImagePrompt(int[] before, int[] after, int rows, int cols)
    {
        (Before, After, ImageRows, ImageCols) = (before, after, rows, cols);
        Positions = new MropeLayout(Length).AddText(before.Length).AddImage(cols, rows).AddText(after.Length).Build();
    }

    /// <summary>Tokenizes <paramref name="prompt"/> around its one <see cref="Marker"/> for an image of rows × cols merged tokens.</summary>
    public static ImagePrompt Create(string prompt, BpeTokenizer tokenizer, int rows, int cols, string modelOrigin)
    {
        int at = prompt.IndexOf(Marker, StringComparison.Ordinal);
        if (at < 0) throw new ImageInputException($"prompt: it has no {Marker} marking where the image goes");
        if (prompt.IndexOf(Marker, at + Marker.Length, StringComparison.Ordinal) >= 0)
            throw new ImageInputException($"prompt: it has more than one {Marker}; one image per prompt is supported");
        RequireImageMarkers(tokenizer, modelOrigin);
        return new ImagePrompt(
            tokenizer.Encode(prompt[..at] + BeginOfImage), tokenizer.Encode(EndOfImage + prompt[(at + Marker.Length)..]), rows, cols);
    }

    /// <summary>
    /// Runs the prompt through <paramref name="model"/> with <paramref name="imageEmbeddings"/> ([ImageTokens, hidden])
    /// as the image's rows, and returns the logits of the last position ([vocab]) or of every position ([Length, vocab]).
    /// </summary>
    public float[] Logits(CausalLm model, ReadOnlySpan<float> imageEmbeddings, LogitsFor mode = LogitsFor.LastToken, KvCacheType cache = KvCacheType.F16)
    {
        int hidden = model.Config.HiddenSize;
        if (imageEmbeddings.Length != ImageTokens * hidden)
            throw new ArgumentException($"{ImageTokens} image tokens of width {hidden} need {ImageTokens * hidden} values, got {imageEmbeddings.Length}", nameof(imageEmbeddings));
        // mtmd feeds the image chunk as embeddings alone; the token id under them is never read.
        return new MultimodalPrompt.Builder().AddText(Before).AddImage(new EncodedImage(ImageRows, ImageCols, imageEmbeddings.ToArray()), imageTokenId: 0)
            .AddText(After).Build().Logits(model, mode, cache);
    }

    /// <summary>Refuses a vocabulary without GLM's image begin and end tokens, which would be split into ordinary text.</summary>
    public static void RequireImageMarkers(BpeTokenizer tokenizer, string modelOrigin)
    {
        foreach (var special in new[] { BeginOfImage, EndOfImage })
            if (!tokenizer.TryGetAddedToken(special, out _))
                throw new ImageInputException($"{modelOrigin}: the vocabulary has no {special} token to mark the image with");
    }
}
