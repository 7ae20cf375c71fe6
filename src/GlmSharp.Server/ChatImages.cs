using GlmSharp.Imaging;
using GlmSharp.Vision;

namespace GlmSharp.Server;

/// <summary>
/// A request's images through the model's vision tower: read (<see cref="ImageUrls"/>), decoded, checked against the
/// context before the tower runs, then encoded one request at a time (the tower's working memory is its own per call,
/// but requests should not race each other for the cores the batcher decodes on).
/// </summary>
internal sealed class ChatImages(ImageEncoder? encoder, ImageUrls urls)
{
    private readonly Lock _tower = new();

    /// <summary>The token id the image rows carry.</summary>
    public int ImageTokenId => encoder?.ImageTokenId ?? 0;

    public IReadOnlyList<EncodedImage> Encode(IReadOnlyList<ImagePart> parts, int contextLength)
    {
        if (parts.Count == 0) return [];
        if (encoder is null)
            throw ApiError.Invalid($"{parts[0].Field}: this model takes no images (start glm serve with --mmproj, or serve a glm4v Hugging Face folder)", parts[0].Field);
        var decoded = new List<(RgbaImage, string)>();
        foreach (var part in parts)
        {
            try
            {
                decoded.Add((ImageDecoder.Decode(urls.Read(part), part.Field), part.Field));
            }
            catch (ImageInputException e)
            {
                throw ApiError.Invalid(e.Message, part.Field);
            }
        }
        try
        {
            lock (_tower) return encoder.EncodeAll(decoded, contextLength, "messages");
        }
        catch (ImageInputException e)
        {
            throw ApiError.Invalid(e.Message, "messages");
        }
    }
}
