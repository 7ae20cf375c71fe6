using System.Runtime.InteropServices;
using GlmSharp.Errors;

namespace GlmSharp.Tensors;

/// <summary>One entry point converting rows between float and every storage type GlmSharp can compute with.</summary>
public static class TensorCodec
{
    /// <summary>Every type rows can be encoded to and decoded from, in ggml's order: the one list tools offer as targets.</summary>
    public static IReadOnlyList<GgmlType> Types { get; } =
        [GgmlType.F32, GgmlType.F16, GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1, GgmlType.Q8_0, GgmlType.Q2_K, GgmlType.Q3_K,
         GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K, GgmlType.IQ4_NL, GgmlType.BF16, GgmlType.MXFP4, GgmlType.NVFP4];

    /// <summary>
    /// The IQ types GlmSharp reads but does not write: llama.cpp writes IQ2_*/IQ1_* only from an importance matrix, and
    /// GlmSharp has no writer for the others yet.
    /// </summary>
    public static IReadOnlyList<GgmlType> DecodeOnlyTypes { get; } =
        [GgmlType.IQ2_XXS, GgmlType.IQ2_XS, GgmlType.IQ3_XXS, GgmlType.IQ1_S, GgmlType.IQ3_S, GgmlType.IQ2_S, GgmlType.IQ4_XS, GgmlType.IQ1_M];

    /// <summary>Types rows can be decoded from: <see cref="Types"/>, <see cref="DecodeOnlyTypes"/> and FP8 E4M3, which only Hugging Face checkpoints carry.</summary>
    public static bool Supports(GgmlType type) => Types.Contains(type) || DecodeOnlyTypes.Contains(type) || type == GgmlType.F8_E4M3;

    /// <summary>True when rows can also be encoded to the type.</summary>
    public static bool CanQuantize(GgmlType type) => Types.Contains(type);

    /// <summary>Decodes <paramref name="dst"/>.Length elements (for <see cref="GgmlType.F8_E4M3"/> the stored values,
    /// before block scales: <see cref="Fp8E4M3.DequantizeRow"/> applies them) stored as <paramref name="type"/> in <paramref name="src"/>,
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
            case GgmlType.Q4_1: Q4_1.Dequantize(src, dst); break;
            case GgmlType.Q5_0: Q5_0.Dequantize(src, dst); break;
            case GgmlType.Q5_1: Q5_1.Dequantize(src, dst); break;
            case GgmlType.IQ4_NL: Iq4Nl.Dequantize(src, dst); break;
            case GgmlType.MXFP4: Mxfp4.Dequantize(src, dst); break;
            case GgmlType.NVFP4: Nvfp4.Dequantize(src, dst); break;
            case GgmlType.F8_E4M3: Fp8E4M3.Decode(src, dst); break;
            case GgmlType.Q2_K: Q2_K.Dequantize(src, dst); break;
            case GgmlType.Q3_K: Q3_K.Dequantize(src, dst); break;
            case GgmlType.Q4_K: Q4_K.Dequantize(src, dst); break;
            case GgmlType.Q5_K: Q5_K.Dequantize(src, dst); break;
            case GgmlType.Q6_K: Q6_K.Dequantize(src, dst); break;
            case GgmlType.IQ2_XXS: Iq2Xxs.Dequantize(src, dst); break;
            case GgmlType.IQ2_XS: Iq2Xs.Dequantize(src, dst); break;
            case GgmlType.IQ2_S: Iq2S.Dequantize(src, dst); break;
            case GgmlType.IQ1_S: Iq1S.Dequantize(src, dst); break;
            case GgmlType.IQ1_M: Iq1M.Dequantize(src, dst); break;
            case GgmlType.IQ4_XS: Iq4Xs.Dequantize(src, dst); break;
            case GgmlType.IQ3_XXS: Iq3Xxs.Dequantize(src, dst); break;
            case GgmlType.IQ3_S: Iq3S.Dequantize(src, dst); break;
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
            case GgmlType.Q4_1: Q4_1.Quantize(src, dst); break;
            case GgmlType.Q5_0: Q5_0.Quantize(src, dst); break;
            case GgmlType.Q5_1: Q5_1.Quantize(src, dst); break;
            case GgmlType.IQ4_NL: Iq4Nl.Quantize(src, dst); break;
            case GgmlType.Q2_K: Q2_K.Quantize(src, dst); break;
            case GgmlType.Q3_K: Q3_K.Quantize(src, dst); break;
            case GgmlType.Q4_K: Q4_K.Quantize(src, dst); break;
            case GgmlType.Q5_K: Q5_K.Quantize(src, dst); break;
            case GgmlType.Q6_K: Q6_K.Quantize(src, dst); break;
            case GgmlType.MXFP4: Mxfp4.Quantize(src, dst); break;
            case GgmlType.NVFP4: Nvfp4.Quantize(src, dst); break;
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
        new($"Tensor type {type} (ggml type id {(uint)type}) cannot be converted yet; supported: {string.Join(", ", Types)} (both ways), {string.Join(", ", DecodeOnlyTypes)}, F8_E4M3 (to float).");
}
