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

    /// <summary>The size the image is resized (HF) or letterboxed (llama.cpp) to.</summary>
    public ImageSize TargetSize(int height, int width, string origin)
    {
        int factor = config.Factor;
        if (mode == ImagePreprocessing.HuggingFace)
            return HuggingFaceImageSizing.Resize(height, width, factor, config.MinPixels, config.MaxPixels, config.TemporalPatchSize, origin);
        int tokenArea = factor * factor;
        return LlamaCppImageSizing.Resize(height, width, factor, llamaCppMinTokens * tokenArea, llamaCppMaxTokens * tokenArea);
    }

    public VisionInput Preprocess(RgbaImage decoded, string origin)
    {
        var size = TargetSize(decoded.Height, decoded.Width, origin);
        var resized = mode == ImagePreprocessing.HuggingFace
            ? AntialiasedBicubic.Resize(decoded.OverWhite(), size.Width, size.Height)
            : LlamaCppBilinear.FitOnBlackCanvas(decoded.DropAlpha(), size.Width, size.Height);
        return Patchifier.Patchify(resized, _normalization, config.PatchSize, config.MergeSize, config.TemporalPatchSize);
    }
}
