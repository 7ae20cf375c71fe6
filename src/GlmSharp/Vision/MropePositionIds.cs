namespace GlmSharp.Vision;

/// <summary>
/// M-RoPE positions of a prompt: one (t, h, w) triple per token, and the offset that continues them in decode.
/// A token generated at sequence index n has all three components equal to n + <see cref="RopeDelta"/>.
/// </summary>
public sealed class MropePositionIds(int[] t, int[] h, int[] w)
{
    public int[] T { get; } = t;
    public int[] H { get; } = h;
    public int[] W { get; } = w;

    public int Count => T.Length;

    public (int T, int H, int W) this[int index] => (T[index], H[index], W[index]);

    /// <summary>max position + 1 − prompt length: how far an image shifted the text after it.</summary>
    public int RopeDelta => (Count == 0 ? 0 : Math.Max(T.Max(), Math.Max(H.Max(), W.Max())) + 1) - Count;
}
