namespace GlmSharp.Vision;

/// <summary>An image size in pixels, height first as the references write it.</summary>
public readonly record struct ImageSize(int Height, int Width)
{
    public override string ToString() => $"{Width}x{Height}";
}
