using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace GlmSharp.Kernels.Cpu;

/// <summary>
/// Where a K-quant super-block with a scale and a min per 32-value sub-block (Q4_K, Q5_K: the 16-byte header of
/// <see cref="Tensors.Q4_K.ScaleMin"/>) keeps its codes. The kernels of <see cref="KQuantKernels"/> are generic over
/// it, so both types share one decode dot and one prefill unpacking.
/// </summary>
internal unsafe interface IScaleMinCodes
{
    static abstract int BlockBytes { get; }

    /// <summary>Whether a fifth bit per code sits beside the nibbles (Q5_K).</summary>
    static abstract bool HasFifthBits { get; }

    /// <summary>The unsigned codes of 64-value chunk <paramref name="chunk"/> (0–3): sub-block 2c, then 2c + 1, in element order.</summary>
    static abstract void Chunk(byte* block, int chunk, out Vector256<byte> low, out Vector256<byte> high);
}

/// <summary>Q4_K: chunk c's 32 bytes of nibbles after the header, sub-block 2c in the low nibbles.</summary>
internal readonly unsafe struct Q4_KCodes : IScaleMinCodes
{
    public static int BlockBytes => ScalarKQuantKernels.Q4_KBytes;

    public static bool HasFifthBits => false;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Chunk(byte* block, int chunk, out Vector256<byte> low, out Vector256<byte> high)
    {
        var nibble = Vector256.Create((byte)0x0f);
        var q = Vector256.Load(block + 16 + 32 * chunk);
        low = q & nibble;
        high = Vector256.ShiftRightLogical(q.AsUInt16(), 4).AsByte() & nibble;
    }
}

/// <summary>
/// Q5_K: Q4_K's nibbles (after 32 bytes of fifth bits) with the fifth bit of element 64c + l in bit 2c of qh[l] and
/// that of element 64c + 32 + l in bit 2c + 1. Codes 0–31 keep pmaddubsw's pair sums below 2¹⁵ (2·31·127 = 7 874).
/// </summary>
internal readonly unsafe struct Q5_KCodes : IScaleMinCodes
{
    public static int BlockBytes => ScalarKQuantKernels.Q5_KBytes;

    public static bool HasFifthBits => true;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Chunk(byte* block, int chunk, out Vector256<byte> low, out Vector256<byte> high)
    {
        var nibble = Vector256.Create((byte)0x0f);
        var fifth = Vector256.Create((byte)0x10);
        var q = Vector256.Load(block + 48 + 32 * chunk);
        // Shifted in 16-bit lanes: bits that cross a byte boundary land above bit 1, which is all the shifts below keep.
        var bits = Vector256.ShiftRightLogical(Vector256.Load(block + 16).AsUInt16(), 2 * chunk);
        low = (q & nibble) | (Vector256.ShiftLeft(bits, 4).AsByte() & fifth);
        high = (Vector256.ShiftRightLogical(q.AsUInt16(), 4).AsByte() & nibble) | (Vector256.ShiftLeft(bits, 3).AsByte() & fifth);
    }
}
