using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace GlmSharp.Kernels.Cpu;

/// <summary>
/// acc + Σ of four byte products per 32-bit lane: what vpdpbusd computes. The 256-bit int8 kernels are generic over it,
/// so the AVX-VNNI instruction and the plain-AVX2 sequences share one kernel body each.
/// </summary>
internal interface IByteDot256
{
    static abstract Vector256<int> Dot4(Vector256<int> acc, Vector256<byte> u, Vector256<sbyte> a);
}

/// <summary>One AVX-VNNI vpdpbusd.</summary>
internal readonly struct VnniDot : IByteDot256
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Dot4(Vector256<int> acc, Vector256<byte> u, Vector256<sbyte> a) => AvxVnni.MultiplyWideningAndAdd(acc, u, a);
}

/// <summary>
/// AVX2 without VNNI, for 4-bit codes (0..15): vpmaddubsw then vpmaddwd by ones, as llama.cpp's AVX2 kernels do. Two
/// products of a code and an int8 activation sum to at most 2·15·127, so the 16-bit pair sums cannot saturate, and
/// the sums are exact, at a third of the instructions of widening both operands to 16 bits first.
/// </summary>
internal readonly struct NibbleDot : IByteDot256
{
    private static Vector256<short> Ones { [MethodImpl(MethodImplOptions.AggressiveInlining)] get => Vector256.Create((short)1); }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Dot4(Vector256<int> acc, Vector256<byte> u, Vector256<sbyte> a) =>
        acc + Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(u, a), Ones);
}

/// <summary>
/// AVX2 without VNNI, for signed codes (Q8_0 weights kept signed): the activation takes the weight's sign and the
/// weight its magnitude, then vpmaddubsw and vpmaddwd by ones, as llama.cpp's AVX2 Q8_0 dot does. A magnitude of at most
/// 128 times an activation of at most 127, two at a time, stays within 16 bits; the sums are exact.
/// </summary>
internal readonly struct SignedDot : IByteDot256
{
    private static Vector256<short> Ones { [MethodImpl(MethodImplOptions.AggressiveInlining)] get => Vector256.Create((short)1); }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Dot4(Vector256<int> acc, Vector256<byte> u, Vector256<sbyte> a)
    {
        var weights = u.AsSByte();
        return acc + Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(Avx2.Abs(weights), Avx2.Sign(a, weights)), Ones);
    }
}
