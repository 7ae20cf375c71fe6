using GlmSharp.Imaging;
using GlmSharp.Vision;

namespace GlmSharp.Server;

/// <summary>
/// A request's images and videos through the model's vision tower: read (<see cref="ImageUrls"/>), decoded (a video's
/// frames sampled as GLM's video processor samples them), checked against the context before the tower runs, then
/// encoded one request at a time (the tower's working memory is its own per call,
/// but requests should not race each other for the cores the batcher decodes on).
/// </summary>
internal sealed class ChatImages(ImageEncoder? encoder, ImageUrls urls)
{
    /// <summary>Held while the tower runs: one request's images or video at a time.</summary>
    private readonly Lock _tower = new();

    /// <summary>The token id the image rows carry.</summary>
    public int ImageTokenId => encoder?.ImageTokenId ?? 0;

    public IReadOnlyList<EncodedImage> Encode(IReadOnlyList<MediaPart> parts, int contextLength)
    {
        if (parts.Count == 0) return [];
        var tower = Tower(parts[0], "images");
        var decoded = new List<(RgbaImage, string)>();
        foreach (var part in parts)
        {
            try
            {
                decoded.Add((ImageDecoder.Decode(urls.Read(part, "image"), part.Field), part.Field));
            }
            catch (ImageInputException e)
            {
                throw ApiError.Invalid(e.Message, part.Field);
            }
        }
        try
        {
            lock (_tower) return tower.EncodeAll(decoded, contextLength, "messages");
        }
        catch (ImageInputException e)
        {
            throw ApiError.Invalid(e.Message, "messages");
        }
    }

    /// <summary>
    /// Each video's sampled frames through the tower. The decoder reads files (ffmpeg takes a path), so a video's bytes
    /// are written to a temporary file first; errors name the request's field, not that file.
    /// </summary>
    public IReadOnlyList<EncodedVideo> EncodeVideos(IReadOnlyList<MediaPart> parts, int contextLength)
    {
        if (parts.Count == 0) return [];
        var tower = Tower(parts[0], "videos");
        var encoded = new List<EncodedVideo>();
        foreach (var part in parts)
        {
            byte[] bytes = urls.Read(part, "video");
            string file = Path.Combine(Path.GetTempPath(), $"glm-serve-video-{Guid.NewGuid():N}");
            try
            {
                File.WriteAllBytes(file, bytes);
                var frames = VideoDecoder.DecodeFile(file);
                lock (_tower) encoded.Add(tower.EncodeVideo(frames, contextLength));
            }
            catch (ImageInputException e)
            {
                throw ApiError.Invalid(e.Message.Replace(file, part.Field, StringComparison.Ordinal), part.Field);
            }
            finally
            {
                File.Delete(file);
            }
        }
        return encoded;
    }

    private ImageEncoder Tower(MediaPart first, string what) => encoder
        ?? throw ApiError.Invalid($"{first.Field}: this model takes no {what} (start glm serve with --mmproj, or serve a glm4v Hugging Face folder)", first.Field);
}
