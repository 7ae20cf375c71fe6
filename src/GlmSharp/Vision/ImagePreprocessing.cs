namespace GlmSharp.Vision;

/// <summary>
/// Which reference's image pre-processing to reproduce. The two differ in size, interpolation and canvas, so an
/// image's tokens (and the model's answer) depend on the choice; each is kept exact so either reference can be matched.
/// </summary>
public enum ImagePreprocessing
{
    /// <summary>Hugging Face's Glm4vImageProcessor: smart_resize within the min/max pixel budget (stretching the
    /// image to multiples of patch × merge), antialiased bicubic, alpha composited over white.</summary>
    HuggingFace,

    /// <summary>llama.cpp mtmd: 8–4096 image tokens, aspect ratio kept by centring the resized image on a black
    /// canvas, align-corners bilinear truncated to uint8, alpha dropped.</summary>
    LlamaCpp,
}
