using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace GlmSharp.Kernels.Cpu;

/// <summary>
/// acc + Σ of four unsigned-by-signed byte products per 32-bit lane: what vpdpbusd computes. The 256-bit int8 kernels
/// are generic over it so that both instruction choices are compiled, tested and benchmarked on any AVX-VNNI machine.
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
/// AVX2 without VNNI: both operands widened to 16 bits so that pmaddwd cannot saturate (vpmaddubsw would, for
/// Q8_0's offset codes up to 255), then the pair sums added pairwise.
/// </summary>
internal readonly struct WideningDot : IByteDot256
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Dot4(Vector256<int> acc, Vector256<byte> u, Vector256<sbyte> a)
    {
        var low = Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(u.GetLower()), Avx2.ConvertToVector256Int16(a.GetLower()));
        var high = Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(u.GetUpper()), Avx2.ConvertToVector256Int16(a.GetUpper()));
        // hadd leaves groups in the order 0 1 4 5 | 2 3 6 7; the permute puts the 64-bit pairs back in order.
        return acc + Avx2.Permute4x64(Avx2.HorizontalAdd(low, high).AsInt64(), 0b11_01_10_00).AsInt32();
    }
}

/// <summary>
/// AVX2 without VNNI, for 4-bit codes (0..15): vpmaddubsw then vpmaddwd by ones, as llama.cpp's AVX2 kernels do. Two
/// products of a code and an int8 activation sum to at most 2·15·127, so the 16-bit pair sums cannot saturate, and
/// the result equals <see cref="WideningDot"/>'s exactly at a third of its instructions.
/// </summary>
internal readonly struct NibbleDot : IByteDot256
{
    private static readonly Vector256<short> Ones = Vector256.Create((short)1);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Dot4(Vector256<int> acc, Vector256<byte> u, Vector256<sbyte> a) =>
        acc + Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(u, a), Ones);
}
