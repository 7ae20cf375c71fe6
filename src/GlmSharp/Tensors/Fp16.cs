namespace GlmSharp.Tensors;

/// <summary>IEEE half precision stored as raw bits; conversion from float rounds to nearest even, like ggml's fp32_to_fp16.</summary>
public static class Fp16
{
    public static float ToFloat(ushort bits) => (float)BitConverter.UInt16BitsToHalf(bits);

    public static ushort FromFloat(float value) => BitConverter.HalfToUInt16Bits((Half)value);

    public static void Decode(ReadOnlySpan<byte> src, Span<float> dst)
    {
        var bits = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, Half>(src);
        for (int i = 0; i < dst.Length; i++) dst[i] = (float)bits[i];
    }

    public static void Encode(ReadOnlySpan<float> src, Span<byte> dst)
    {
        var bits = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, Half>(dst);
        for (int i = 0; i < src.Length; i++) bits[i] = (Half)src[i];
    }
}
