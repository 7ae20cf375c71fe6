using GlmSharp.Tokenizers;

namespace GlmSharp.Vision;

/// <summary>
/// How GLM's prompts hold a video: the chat template writes <see cref="Placeholder"/>, and the processor replaces
/// <see cref="VideoToken"/> by one image-like run per temporal patch, each followed by its timestamp —
/// <c>&lt;|begin_of_image|&gt;</c> + n × <c>&lt;|image|&gt;</c> (the image token, not the video one) +
/// <c>&lt;|end_of_image|&gt;</c> + whole seconds as text.
/// </summary>
public static class VideoPrompt
{
    /// <summary>Where `glm generate --video` puts each video in --prompt.</summary>
    public const string Marker = "<__video__>";
    public const string BeginOfVideo = "<|begin_of_video|>";
    public const string EndOfVideo = "<|end_of_video|>";
    public const string VideoToken = "<|video|>";

    /// <summary>What GLM's chat template writes where a video goes.</summary>
    public const string Placeholder = BeginOfVideo + VideoToken + EndOfVideo;

    /// <summary>Refuses a vocabulary without GLM's video and image begin and end tokens, which would be split into ordinary text.</summary>
    public static void RequireVideoMarkers(BpeTokenizer tokenizer, string modelOrigin)
    {
        ImagePrompt.RequireImageMarkers(tokenizer, modelOrigin);
        foreach (var special in new[] { BeginOfVideo, EndOfVideo })
            if (!tokenizer.TryGetAddedToken(special, out _))
                throw new ImageInputException($"{modelOrigin}: the vocabulary has no {special} token to mark the video with");
    }
}
