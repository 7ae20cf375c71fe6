using GlmSharp.Tensors;

namespace GlmSharp.Formats.Safetensors;

/// <summary>Element types a safetensors header may declare, spelled as in the header ("BF16", "F8_E4M3").</summary>
public enum SafetensorsDtype
{
    BOOL,
    U8,
    I8,
    F8_E4M3,
    F8_E5M2,
    U16,
    I16,
    F16,
    BF16,
    U32,
    I32,
    F32,
    U64,
    I64,
    F64,
}

public static class SafetensorsDtypes
{
    public static int ElementSize(this SafetensorsDtype dtype) => dtype switch
    {
        SafetensorsDtype.BOOL or SafetensorsDtype.U8 or SafetensorsDtype.I8 or SafetensorsDtype.F8_E4M3 or SafetensorsDtype.F8_E5M2 => 1,
        SafetensorsDtype.U16 or SafetensorsDtype.I16 or SafetensorsDtype.F16 or SafetensorsDtype.BF16 => 2,
        SafetensorsDtype.U32 or SafetensorsDtype.I32 or SafetensorsDtype.F32 => 4,
        _ => 8,
    };

    /// <summary>The ggml type GlmSharp computes with for this dtype, or null when it cannot compute with it.</summary>
    public static GgmlType? ToGgmlType(this SafetensorsDtype dtype) => dtype switch
    {
        SafetensorsDtype.F32 => GgmlType.F32,
        SafetensorsDtype.F16 => GgmlType.F16,
        SafetensorsDtype.BF16 => GgmlType.BF16,
        SafetensorsDtype.F8_E4M3 => GgmlType.F8_E4M3,
        _ => null,
    };

    /// <summary>Accepts exactly the header spellings; Enum.TryParse alone would also take numbers and "A, B" lists.</summary>
    public static bool TryParse(string text, out SafetensorsDtype dtype) =>
        Enum.TryParse(text, ignoreCase: false, out dtype) && dtype.ToString() == text;
}
