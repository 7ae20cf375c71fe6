using GlmSharp.Configs;

namespace GlmSharp.Vision;

/// <summary>
/// Decoded image → vision tower input, following the chosen reference: Hugging Face's processor (the default) or
/// llama.cpp mtmd's. Token limits for the llama.cpp path are mtmd's defaults unless given (its --image-min-tokens /
/// --image-max-tokens).
/// </summary>
public sealed class ImagePreprocessor(
    Glm4vPreprocessorConfig config,
    ImagePreprocessing mode = ImagePreprocessing.HuggingFace,
    int llamaCppMinTokens = LlamaCppImageSizing.DefaultMinTokens,
    int llamaCppMaxTokens = LlamaCppImageSizing.DefaultMaxTokens)
{
    private readonly float[] _normalization = PixelNormalization.Table(mode, config.ImageMean, config.ImageStd);

    public ImagePreprocessing Mode => mode;

    public int TemporalPatchSize => config.TemporalPatchSize;

    /// <summary>
    /// The size the image is resized (HF) or letterboxed (llama.cpp) to; for a video's frames, the Hugging Face pixel budget
    /// covers all <paramref name="frames"/> together, as its video processor counts them.
    /// </summary>
    public ImageSize TargetSize(int height, int width, string origin, int? frames = null)
    {
        int factor = config.Factor;
        if (mode == ImagePreprocessing.HuggingFace)
            return HuggingFaceImageSizing.Resize(height, width, factor, config.MinPixels, config.MaxPixels, config.TemporalPatchSize, origin, frames);
        int tokenArea = factor * factor;
        return LlamaCppImageSizing.Resize(height, width, factor, llamaCppMinTokens * tokenArea, llamaCppMaxTokens * tokenArea);
    }

    public VisionInput Preprocess(RgbaImage decoded, string origin)
    {
        var size = TargetSize(decoded.Height, decoded.Width, origin);
        return Patchifier.Patchify(Resize(decoded, size), _normalization, config.PatchSize, config.MergeSize, config.TemporalPatchSize);
    }

    /// <summary>One temporal patch of a video: its consecutive frames, each resized to <paramref name="size"/> as an image is.</summary>
    public VisionInput PreprocessFrames(IReadOnlyList<RgbaImage> frames, ImageSize size)
    {
        if (frames.Count != config.TemporalPatchSize)
            throw new ArgumentException($"a temporal patch holds {config.TemporalPatchSize} frames, got {frames.Count}", nameof(frames));
        return Patchifier.Patchify([.. frames.Select(f => Resize(f, size))], _normalization, config.PatchSize, config.MergeSize);
    }

    private RgbImage Resize(RgbaImage decoded, ImageSize size) => mode == ImagePreprocessing.HuggingFace
        ? AntialiasedBicubic.Resize(decoded.OverWhite(), size.Width, size.Height)
        : LlamaCppBilinear.FitOnBlackCanvas(decoded.DropAlpha(), size.Width, size.Height);
}
