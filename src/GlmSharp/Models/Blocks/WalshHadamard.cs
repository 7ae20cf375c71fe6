using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using GlmSharp.Tensors;

namespace GlmSharp.Models.Blocks;

/// <summary>
/// The orthonormal Walsh–Hadamard matrix H (Sylvester's order, H[i, j] = (−1)^popcount(i &amp; j) / √n, symmetric, H² = I)
/// that llama.cpp's DSA graphs multiply the lightning indexer's queries and keys by before the keys are cached. Scores do
/// not change, (Hq)·(Hk) = q·k, but a key rounded to F16 or Q8_0 after the rotation rounds differently, and the top-k
/// follows the rounding: matching it keeps a reduced-precision cache choosing llama.cpp's positions.
/// </summary>
public static unsafe class WalshHadamard
{
    private static readonly ConcurrentDictionary<int, TensorView> Matrices = new();

    /// <summary>Whether a head of this width is rotated: llama.cpp builds the matrices for powers of two only.</summary>
    public static bool Rotates(int width) => width >= 2 && (width & (width - 1)) == 0;

    /// <summary>H of order <paramref name="width"/> as an F32 matrix, built once per width and kept for the process (a few KiB, as llama.cpp keeps its table).</summary>
    public static TensorView Matrix(int width)
    {
        if (!Rotates(width)) throw new ArgumentOutOfRangeException(nameof(width), width, "the Walsh–Hadamard matrix needs a power of two");
        return Matrices.GetOrAdd(width, n =>
        {
            var values = (float*)NativeMemory.AlignedAlloc((nuint)(n * n * sizeof(float)), 64);
            float scale = 1f / MathF.Sqrt(n);
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++)
                    values[i * n + j] = int.PopCount(i & j) % 2 == 0 ? scale : -scale;
            return new TensorView($"walsh_hadamard_{n}", GgmlType.F32, [n, n], (byte*)values, (long)n * n * sizeof(float), "Walsh–Hadamard rotation");
        });
    }
}
