using System.Numerics;
using System.Runtime.InteropServices;

namespace GlmSharp.Tensors;

/// <summary>
/// bfloat16 stored as raw bits: the top half of a float. Widening is exact; narrowing rounds to nearest even and
/// keeps NaNs quiet, the same rule as ggml's fp32_to_bf16 and PyTorch's conversion.
/// </summary>
public static class Bf16
{
    public static float ToFloat(ushort bits) => BitConverter.Int32BitsToSingle(bits << 16);

    public static ushort FromFloat(float value)
    {
        uint u = BitConverter.SingleToUInt32Bits(value);
        if ((u & 0x7fffffffu) > 0x7f800000u) return (ushort)((u >> 16) | 0x40);
        return (ushort)((u + 0x7fffu + ((u >> 16) & 1)) >> 16);
    }

    public static void Decode(ReadOnlySpan<byte> src, Span<float> dst)
    {
        var bits = MemoryMarshal.Cast<byte, ushort>(src);
        for (int i = 0; i < dst.Length; i++) dst[i] = ToFloat(bits[i]);
    }

    public static void Encode(ReadOnlySpan<float> src, Span<byte> dst) => Encode(src, MemoryMarshal.Cast<byte, ushort>(dst));

    /// <summary><see cref="FromFloat"/> of every value, on vectors where the hardware has them.</summary>
    public static void Encode(ReadOnlySpan<float> src, Span<ushort> dst)
    {
        var bits = MemoryMarshal.Cast<float, uint>(src);
        int i = 0;
        if (Vector.IsHardwareAccelerated)
            for (; i + 2 * Vector<uint>.Count <= src.Length; i += 2 * Vector<uint>.Count)
                Vector.Narrow(RoundedBits(new Vector<uint>(bits[i..])) >> 16, RoundedBits(new Vector<uint>(bits[(i + Vector<uint>.Count)..])) >> 16)
                    .CopyTo(dst[i..]);
        for (; i < src.Length; i++) dst[i] = FromFloat(src[i]);
    }

    /// <summary>Each value rounded to the nearest BF16 value (<see cref="FromFloat"/> then <see cref="ToFloat"/>), kept as a float.</summary>
    public static void Round(ReadOnlySpan<float> src, Span<float> dst)
    {
        var bits = MemoryMarshal.Cast<float, uint>(src);
        var rounded = MemoryMarshal.Cast<float, uint>(dst);
        int i = 0;
        if (Vector.IsHardwareAccelerated)
            for (; i + Vector<uint>.Count <= src.Length; i += Vector<uint>.Count)
                RoundedBits(new Vector<uint>(bits[i..])).CopyTo(rounded[i..]);
        for (; i < src.Length; i++) dst[i] = ToFloat(FromFloat(src[i]));
    }

    /// <summary><see cref="FromFloat"/>'s rounding in the top half of each lane, the bottom half cleared.</summary>
    private static Vector<uint> RoundedBits(Vector<uint> u)
    {
        var top = new Vector<uint>(0xffff0000u);
        var nearestEven = (u + new Vector<uint>(0x7fffu) + ((u >> 16) & Vector<uint>.One)) & top;
        var quietNaN = (u & top) | new Vector<uint>(0x400000u);
        return Vector.ConditionalSelect(Vector.GreaterThan(u & new Vector<uint>(0x7fffffffu), new Vector<uint>(0x7f800000u)), quietNaN, nearestEven);
    }
}
