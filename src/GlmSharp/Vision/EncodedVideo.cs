namespace GlmSharp.Vision;

/// <summary>
/// One video through the vision tower: each temporal patch (two frames) as a merged grid of its own, with the whole
/// second at which it starts. GLM lays each patch out as an image (<c>&lt;|begin_of_image|&gt;</c>, its tokens,
/// <c>&lt;|end_of_image|&gt;</c>) followed by its timestamp as text.
/// </summary>
public sealed record EncodedVideo(IReadOnlyList<EncodedImage> TemporalPatches, IReadOnlyList<int> Timestamps)
{
    public int Tokens => TemporalPatches.Sum(p => p.Tokens);
}
