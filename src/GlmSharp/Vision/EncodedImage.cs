using System.Runtime.InteropServices;

namespace GlmSharp.Vision;

/// <summary>
/// One image through the vision tower: its merged grid (<paramref name="Rows"/> × <paramref name="Cols"/> tokens) and
/// the text model's input rows for it, [Rows · Cols, hidden] in row-major grid order.
/// </summary>
public sealed record EncodedImage(int Rows, int Cols, float[] Embeddings)
{
    public int Tokens => Rows * Cols;

    /// <summary>
    /// A 64-bit FNV-1a digest of the grid and every embedding value: two images with the same key feed the model the same
    /// rows, so a cache that holds one may serve the other.
    /// </summary>
    public long ContentKey { get; } = Digest(Rows, Cols, Embeddings);

    private static long Digest(int rows, int cols, float[] embeddings)
    {
        const ulong prime = 1099511628211;
        ulong hash = 14695981039346656037 ^ (ulong)(uint)rows;
        hash = (hash * prime) ^ (ulong)(uint)cols;
        foreach (uint bits in MemoryMarshal.Cast<float, uint>(embeddings)) hash = (hash ^ bits) * prime;
        return (long)hash;
    }
}
