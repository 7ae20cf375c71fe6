namespace GlmSharp.Vision;

/// <summary>A visual input's patch grid: temporal patches × patch rows × patch columns (transformers' *_grid_thw).</summary>
public readonly record struct GridThw(int T, int H, int W)
{
    public override string ToString() => $"{T}×{H}×{W}";
}
