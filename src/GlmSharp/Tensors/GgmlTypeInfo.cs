using GlmSharp.Errors;

namespace GlmSharp.Tensors;

/// <summary>
/// Storage layout of each ggml type: how many elements one block holds and how many bytes it takes.
/// Sizes follow ggml's type traits (ggml.c), so byte counts computed here match what llama.cpp writes.
/// </summary>
public static class GgmlTypeInfo
{
    private readonly record struct Layout(int BlockSize, int BytesPerBlock);

    private static Layout? Find(GgmlType type) => type switch
    {
        GgmlType.F32 => new(1, 4),
        GgmlType.F16 => new(1, 2),
        GgmlType.BF16 => new(1, 2),
        GgmlType.F64 => new(1, 8),
        GgmlType.I8 => new(1, 1),
        GgmlType.I16 => new(1, 2),
        GgmlType.I32 => new(1, 4),
        GgmlType.I64 => new(1, 8),
        GgmlType.Q4_0 => new(32, 2 + 16),
        GgmlType.Q4_1 => new(32, 2 + 2 + 16),
        GgmlType.Q5_0 => new(32, 2 + 4 + 16),
        GgmlType.Q5_1 => new(32, 2 + 2 + 4 + 16),
        GgmlType.Q8_0 => new(32, 2 + 32),
        GgmlType.Q8_1 => new(32, 2 + 2 + 32),
        GgmlType.Q2_K => new(256, 16 + 64 + 2 + 2),
        GgmlType.Q3_K => new(256, 32 + 64 + 12 + 2),
        GgmlType.Q4_K => new(256, 2 + 2 + 12 + 128),
        GgmlType.Q5_K => new(256, 2 + 2 + 12 + 32 + 128),
        GgmlType.Q6_K => new(256, 128 + 64 + 16 + 2),
        GgmlType.Q8_K => new(256, 4 + 256 + 32),
        GgmlType.IQ4_NL => new(32, 2 + 16),
        GgmlType.IQ4_XS => new(256, 2 + 2 + 4 + 128),
        GgmlType.IQ3_S => new(256, 2 + 64 + 8 + 32 + 4),
        GgmlType.IQ3_XXS => new(256, 2 + 96),
        GgmlType.IQ2_S => new(256, 2 + 64 + 8 + 8),
        GgmlType.IQ2_XS => new(256, 2 + 64 + 8),
        GgmlType.IQ2_XXS => new(256, 2 + 64),
        GgmlType.IQ1_M => new(256, 32 + 16 + 8),
        GgmlType.IQ1_S => new(256, 2 + 32 + 16),
        GgmlType.MXFP4 => new(32, 1 + 16),
        GgmlType.NVFP4 => new(64, 4 + 32),
        GgmlType.F8_E4M3 => new(1, 1),
        GgmlType.Q4_0x8 => new(32, 2 + 16),
        GgmlType.Q8_0x8 => new(32, 2 + 32),
        GgmlType.Q4_Kx8 => new(256, 2 + 2 + 12 + 128),
        GgmlType.Q5_0x8 => new(32, 2 + 4 + 16),
        GgmlType.IQ4_NLx8 => new(32, 2 + 16),
        GgmlType.Q6_Kx8 => new(256, 2 + 16 + 192),
        GgmlType.Q5_Kx8 => new(256, 2 + 2 + 12 + 32 + 128),
        GgmlType.Q5_1x8 => new(32, 2 + 2 + 4 + 16),
        _ => null,
    };

    /// <summary>True when the block layout of the type is known, so tensors of it can be sized and mapped.</summary>
    public static bool IsKnown(GgmlType type) => Find(type) is not null;

    /// <summary>True for the types a GGUF file may hold: every known type but GlmSharp's block-scaled FP8 and repacked matrices.</summary>
    public static bool IsGgufType(GgmlType type) => IsKnown(type) && type != GgmlType.F8_E4M3 && !IsRepacked(type);

    /// <summary>
    /// True for a matrix a backend repacked at load for its kernels: whole groups of eight rows interleaved, so a row
    /// cannot be read or sliced on its own. Its byte counts per row are those of <see cref="StoredType"/>.
    /// </summary>
    public static bool IsRepacked(GgmlType type) => type is GgmlType.Q4_0x8 or GgmlType.Q8_0x8 or GgmlType.Q4_Kx8 or GgmlType.Q5_0x8 or GgmlType.IQ4_NLx8 or GgmlType.Q6_Kx8 or GgmlType.Q5_Kx8 or GgmlType.Q5_1x8;

    /// <summary>The file type a repacked matrix was made from (the type itself for any other).</summary>
    public static GgmlType StoredType(GgmlType type) => type switch
    {
        GgmlType.Q4_0x8 => GgmlType.Q4_0,
        GgmlType.Q8_0x8 => GgmlType.Q8_0,
        GgmlType.Q4_Kx8 => GgmlType.Q4_K,
        GgmlType.Q5_0x8 => GgmlType.Q5_0,
        GgmlType.IQ4_NLx8 => GgmlType.IQ4_NL,
        GgmlType.Q6_Kx8 => GgmlType.Q6_K,
        GgmlType.Q5_Kx8 => GgmlType.Q5_K,
        GgmlType.Q5_1x8 => GgmlType.Q5_1,
        _ => type,
    };

    /// <summary>True when <see cref="TensorCodec"/> can convert rows of the type to and from float.</summary>
    public static bool IsSupported(GgmlType type) => TensorCodec.Supports(type);

    /// <summary>Elements per block (1 for plain scalar types).</summary>
    public static int BlockSize(GgmlType type) => Get(type).BlockSize;

    public static int BytesPerBlock(GgmlType type) => Get(type).BytesPerBlock;

    /// <summary>Bytes taken by a row of <paramref name="elements"/> values; the count must be a whole number of blocks.</summary>
    public static long RowByteSize(GgmlType type, long elements)
    {
        var layout = Get(type);
        if (elements < 0 || elements % layout.BlockSize != 0)
            throw new ArgumentException($"{type} stores blocks of {layout.BlockSize} elements; a row of {elements} is not a whole number of blocks.", nameof(elements));
        return checked(elements / layout.BlockSize * layout.BytesPerBlock);
    }

    /// <summary>Bytes taken by a tensor of the given torch-order shape (the last dimension is the row).</summary>
    public static long TensorByteSize(GgmlType type, IReadOnlyList<long> shape)
    {
        if (shape.Count == 0) return RowByteSize(type, 1);
        long rows = 1;
        for (int i = 0; i < shape.Count - 1; i++) rows = checked(rows * shape[i]);
        return checked(rows * RowByteSize(type, shape[^1]));
    }

    private static Layout Get(GgmlType type) =>
        Find(type) ?? throw new UnsupportedModelException($"ggml type id {(uint)type} ({type}) has no known block layout.");
}
