using System.Runtime.InteropServices;
using GlmSharp.Errors;

namespace GlmSharp.Tensors;

/// <summary>One entry point converting rows between float and every storage type GlmSharp can compute with.</summary>
public static class TensorCodec
{
    /// <summary>Every type rows can be converted from and to, in ggml's order: the one list tools offer as targets.</summary>
    public static IReadOnlyList<GgmlType> Types { get; } =
        [GgmlType.F32, GgmlType.F16, GgmlType.Q4_0, GgmlType.Q5_0, GgmlType.Q8_0, GgmlType.Q4_K, GgmlType.Q6_K, GgmlType.BF16];

    public static bool Supports(GgmlType type) => Types.Contains(type);

    /// <summary>True when rows can also be encoded to the type (every supported type can).</summary>
    public static bool CanQuantize(GgmlType type) => Supports(type);

    /// <summary>Decodes <paramref name="dst"/>.Length elements stored as <paramref name="type"/> in <paramref name="src"/>,
    /// which must hold exactly their <see cref="GgmlTypeInfo.RowByteSize"/> bytes.</summary>
    public static void DequantizeRow(GgmlType type, ReadOnlySpan<byte> src, Span<float> dst)
    {
        CheckRow(type, dst.Length, src.Length);
        switch (type)
        {
            case GgmlType.F32: MemoryMarshal.Cast<byte, float>(src).CopyTo(dst); break;
            case GgmlType.F16: Fp16.Decode(src, dst); break;
            case GgmlType.BF16: Bf16.Decode(src, dst); break;
            case GgmlType.Q8_0: Q8_0.Dequantize(src, dst); break;
            case GgmlType.Q4_0: Q4_0.Dequantize(src, dst); break;
            case GgmlType.Q5_0: Q5_0.Dequantize(src, dst); break;
            case GgmlType.Q4_K: Q4_K.Dequantize(src, dst); break;
            case GgmlType.Q6_K: Q6_K.Dequantize(src, dst); break;
            default: throw Unsupported(type);
        }
    }

    /// <summary>Decodes a row read straight from mapped memory; <paramref name="src"/> must point at a whole row.</summary>
    public static unsafe void DequantizeRow(GgmlType type, byte* src, Span<float> dst) =>
        DequantizeRow(type, new ReadOnlySpan<byte>(src, checked((int)RowBytes(type, dst.Length))), dst);

    /// <summary>Encodes <paramref name="src"/> as <paramref name="type"/>; <paramref name="dst"/> must be exactly the row's byte size.</summary>
    public static void QuantizeRow(GgmlType type, ReadOnlySpan<float> src, Span<byte> dst)
    {
        CheckRow(type, src.Length, dst.Length);
        switch (type)
        {
            case GgmlType.F32: MemoryMarshal.AsBytes(src).CopyTo(dst); break;
            case GgmlType.F16: Fp16.Encode(src, dst); break;
            case GgmlType.BF16: Bf16.Encode(src, dst); break;
            case GgmlType.Q8_0: Q8_0.Quantize(src, dst); break;
            case GgmlType.Q4_0: Q4_0.Quantize(src, dst); break;
            case GgmlType.Q5_0: Q5_0.Quantize(src, dst); break;
            case GgmlType.Q4_K: Q4_K.Quantize(src, dst); break;
            case GgmlType.Q6_K: Q6_K.Quantize(src, dst); break;
            default: throw Unsupported(type);
        }
    }

    private static void CheckRow(GgmlType type, int elements, int bytes)
    {
        long expected = RowBytes(type, elements);
        if (bytes != expected)
            throw new ArgumentException($"A {type} row of {elements} elements takes {expected} bytes, buffer has {bytes}.");
    }

    private static long RowBytes(GgmlType type, int elements)
    {
        if (!Supports(type)) throw Unsupported(type);
        return GgmlTypeInfo.RowByteSize(type, elements);
    }

    private static UnsupportedModelException Unsupported(GgmlType type) =>
        new($"Tensor type {type} (ggml type id {(uint)type}) cannot be converted yet; supported: {string.Join(", ", Types)}.");
}
