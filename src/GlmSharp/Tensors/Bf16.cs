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

    public static void Encode(ReadOnlySpan<float> src, Span<byte> dst)
    {
        var bits = MemoryMarshal.Cast<byte, ushort>(dst);
        for (int i = 0; i < src.Length; i++) bits[i] = FromFloat(src[i]);
    }
}
